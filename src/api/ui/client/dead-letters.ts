/** Dead letters: reason, attempts, next attempt; view the envelope, download the raw email, replay one or all. */
import { h } from 'preact';
import { useState } from 'preact/hooks';
import type { DeadLetterView, ReplayResult } from '../../schemas.ts';
import { ApiError, api } from './api.ts';
import { ago, bytes, clock } from './format.ts';
import { Modal } from './modal.ts';
import { ReloadDestinations } from './reload-destinations.ts';
import { useRefresh } from './use-refresh.ts';

const REFRESH_MS = 5_000;

/** What the replay did, in words: delivered, or failed again with the reason and the next attempt. */
export function replayMessage(result: ReplayResult): string {
  if (result.replayed === 0) return 'Nothing to replay.';
  if (result.replayed === 1) {
    const [one] = result.results;
    if (one?.outcome === 'delivered') return 'Replayed: delivered.';
    if (one?.outcome === 'failed')
      return `Replayed, but it failed again: ${one.error ?? 'no reason given'}. ${one.nextAttemptAt ? `Next attempt ${clock(one.nextAttemptAt)}.` : 'Only a replay will try again.'}`;
    return 'Replayed: due now, a worker delivers it.';
  }
  const firstFailure = result.results.find((r) => r.outcome === 'failed');
  const queued = result.replayed - result.delivered - result.failed;
  return `Replayed ${result.replayed}: ${result.delivered} delivered, ${result.failed} failed again${queued ? `, ${queued} due now` : ''}.${firstFailure ? ` First failure: ${firstFailure.error ?? 'no reason given'}.` : ''}`;
}

type Detail = DeadLetterView & { envelope: Record<string, unknown>; rawAvailable: boolean };

async function downloadRaw(id: string): Promise<void> {
  const response = await api.raw('GET', `/api/dead-letters/${encodeURIComponent(id)}/raw`);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = `${id}.eml`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function DeadLettersScreen() {
  const { data, error, reload, loadedAt } = useRefresh(() => api.get<DeadLetterView[]>('/api/dead-letters'), REFRESH_MS);
  const [detail, setDetail] = useState<Detail | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const now = loadedAt || Date.now();

  const act = async (run: () => Promise<string>) => {
    try {
      setMessage(await run());
      await reload();
    } catch (caught) {
      setMessage(caught instanceof ApiError ? caught.message : String(caught));
    }
  };
  const replay = (id: string) => act(async () => replayMessage(await api.json<ReplayResult>('POST', `/api/dead-letters/${encodeURIComponent(id)}/replay`)));
  const replayAll = () => act(async () => replayMessage(await api.json<ReplayResult>('POST', '/api/dead-letters/replay-all')));

  return h(
    'section',
    { 'aria-labelledby': 'dead-title' },
    h(
      'div',
      { class: 'screen-head' },
      h('h1', { id: 'dead-title' }, 'Dead letters'),
      h('span', { class: 'muted' }, 'Pipeline messages that could not be delivered: retried on the catastrophic-retry schedule, or replayed here.'),
      h('span', { class: 'spacer' }),
      h('button', { type: 'button', class: 'primary', disabled: !data?.length, onClick: () => void replayAll() }, 'Replay all'),
    ),
    h(ReloadDestinations, {}),
    message ? h('p', { class: 'flash', role: 'status' }, message) : null,
    error ? h('p', { class: 'error', role: 'alert' }, error) : null,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'grid-table', 'aria-label': 'Dead letters' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Since', 'Connection', 'Part', 'Email', 'Attempts', 'Next attempt', 'Reason', 'Actions'].map((label) =>
              h('th', { key: label, scope: 'col' }, label),
            ),
          ),
        ),
        h(
          'tbody',
          {},
          (data ?? []).map((d) =>
            h(
              'tr',
              { key: d.id },
              h('td', { class: 'nowrap', title: clock(d.createdAt) }, ago(d.createdAt, now)),
              h('th', { scope: 'row' }, d.connection, h('span', { class: 'sub' }, `→ ${d.destination}`)),
              h('td', {}, `${d.kind}: ${d.filename}`, h('span', { class: 'sub' }, `${d.contentType}, ${bytes(d.size)}`)),
              h('td', {}, d.subject ?? '(no subject)', h('span', { class: 'sub' }, d.from ?? '')),
              h('td', { class: 'num' }, String(d.attempts)),
              h('td', { class: 'nowrap', title: clock(d.nextAttemptAt) }, d.nextAttemptAt ? ago(d.nextAttemptAt, now) : 'manual replay only'),
              h('td', { title: d.lastError ?? '' }, h('div', { class: 'reason error-text' }, d.lastError ?? '')),
              h(
                'td',
                {},
                h(
                  'div',
                  { class: 'row-actions' },
                  h(
                    'button',
                    {
                      type: 'button',
                      'aria-label': `View envelope of ${d.id}`,
                      onClick: () =>
                        void api.get<Detail>(`/api/dead-letters/${encodeURIComponent(d.id)}`).then(setDetail, (e: unknown) => setMessage(String(e))),
                    },
                    'Envelope',
                  ),
                  h(
                    'button',
                    {
                      type: 'button',
                      'aria-label': `Download raw email of ${d.id}`,
                      onClick: () => void downloadRaw(d.id).catch((e: unknown) => setMessage(e instanceof Error ? e.message : String(e))),
                    },
                    'Raw email',
                  ),
                  h('button', { type: 'button', class: 'primary', 'aria-label': `Replay ${d.id}`, onClick: () => void replay(d.id) }, 'Replay'),
                ),
              ),
            ),
          ),
        ),
      ),
      data && data.length === 0 ? h('p', { class: 'empty' }, 'No dead letters: everything was delivered.') : null,
    ),
    detail
      ? h(
          Modal,
          { title: `Envelope ${detail.id}`, onClose: () => setDetail(null), wide: true },
          h('p', { class: 'muted' }, `${detail.attempts} attempt(s). Last error: ${detail.lastError ?? '–'}`),
          h('pre', { class: 'envelope', tabIndex: 0 }, JSON.stringify(detail.envelope, null, 2)),
          h(
            'div',
            { class: 'actions' },
            detail.rawAvailable
              ? h('button', { type: 'button', onClick: () => void downloadRaw(detail.id) }, 'Download raw email')
              : h('span', { class: 'muted' }, 'The raw email is no longer kept.'),
            h('span', { class: 'spacer' }),
            h('button', { type: 'button', onClick: () => setDetail(null) }, 'Close'),
            h('button', { type: 'button', class: 'primary', onClick: () => void replay(detail.id).then(() => setDetail(null)) }, 'Replay'),
          ),
        )
      : null,
  );
}

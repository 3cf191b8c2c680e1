/**
 * One email's trail, in a dialog: what it is (Message-ID, sender, subject, date, size, how it was
 * acknowledged), what happened to it in order, and its pipeline messages; a dead letter among
 * them can be replayed here as on the Dead letters page. Refreshes itself while it is open.
 */
import { h } from 'preact';
import { useState } from 'preact/hooks';
import type { EmailTrailView, EmailView, ReplayResult } from '../../schemas.ts';
import { ApiError, api } from './api.ts';
import { replayMessage } from './dead-letter-words.ts';
import { ago, bytes, clock } from './format.ts';
import { Modal } from './modal.ts';
import { EMAIL_STATE_BADGE, EMAIL_STATE_LABEL, EVENT_LABEL, eventTone, messageState } from './trail-labels.ts';
import { useRefresh } from './use-refresh.ts';

const REFRESH_MS = 5_000;

type TimelineEntry = EmailTrailView['timeline'][number];
type TrailMessage = EmailTrailView['messages'][number];
const GONE = 'gone' as const;

function Facts(props: { email: EmailView }) {
  const { email } = props;
  const fact = (term: string, value: string) => [h('dt', { key: `${term}-t` }, term), h('dd', { key: `${term}-d` }, value)];
  return h(
    'dl',
    { class: 'facts' },
    fact('Message-ID', email.messageId ?? '(none)'),
    fact('From', email.from ?? '(no sender)'),
    fact('Subject', email.subject ?? '(no subject)'),
    fact('Date', email.sentAt ? clock(email.sentAt) : '(not given)'),
    fact('Size', email.size === null ? '(not known)' : bytes(email.size)),
    fact('Connection', email.connection),
    fact('Picked up', clock(email.pickedUpAt)),
    fact(
      'Acknowledged',
      email.acknowledgedAt ? `${email.acknowledgement ?? 'yes'}, ${clock(email.acknowledgedAt)}` : email.state === 'filtered' ? 'not taken' : 'not yet',
    ),
    h('dt', { key: 'state-t' }, 'State'),
    h(
      'dd',
      { key: 'state-d' },
      h('span', { class: `badge ${EMAIL_STATE_BADGE[email.state]}` }, EMAIL_STATE_LABEL[email.state]),
      email.filtered ? ` ${email.filtered.condition}: ${email.filtered.reason}` : null,
    ),
  );
}

function Timeline(props: { entries: TimelineEntry[]; messages: TrailMessage[] }) {
  const filenames = new Map(props.messages.map((m) => [m.id, m.filename]));
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'grid-table', 'aria-label': 'Timeline' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Time', 'Event', 'Pipeline message', 'Destination', 'Detail'].map((label) => h('th', { key: label, scope: 'col' }, label)),
        ),
      ),
      h(
        'tbody',
        {},
        props.entries.map((entry, index) =>
          h(
            'tr',
            { key: `${entry.at}-${index}`, class: `event-${eventTone(entry.event)}` },
            h('td', { class: 'nowrap' }, clock(entry.at)),
            h('th', { scope: 'row' }, EVENT_LABEL[entry.event]),
            h('td', {}, entry.messageId ? (filenames.get(entry.messageId) ?? entry.messageId) : ''),
            h('td', {}, entry.destination ?? ''),
            h('td', {}, h('div', { class: `reason${eventTone(entry.event) === 'bad' ? ' error-text' : ''}` }, entry.detail ?? '')),
          ),
        ),
      ),
    ),
  );
}

function Messages(props: { messages: TrailMessage[]; now: number; onReplay: (message: TrailMessage) => void }) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'grid-table', 'aria-label': 'Pipeline messages' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['File', 'Destination', 'State', 'Attempts', 'Last error', 'Next attempt', 'Actions'].map((label) => h('th', { key: label, scope: 'col' }, label)),
        ),
      ),
      h(
        'tbody',
        {},
        props.messages.map((m) => {
          const state = messageState(m);
          return h(
            'tr',
            { key: m.id },
            h('th', { scope: 'row', class: 'file' }, `${m.kind}: ${m.filename}`, h('span', { class: 'sub' }, `${m.contentType}, ${bytes(m.size)}`)),
            h('td', {}, m.destination),
            h(
              'td',
              {},
              h('span', { class: `badge ${state.badge}` }, state.label),
              m.deliveredAt ? h('span', { class: 'sub', title: clock(m.deliveredAt) }, ago(m.deliveredAt, props.now)) : null,
            ),
            h('td', { class: 'num' }, String(m.attempts)),
            h('td', {}, m.lastError ? h('div', { class: 'reason error-text' }, m.lastError) : ''),
            // A delivered message keeps the time it was last due: no next attempt to show.
            m.state === 'delivered'
              ? h('td', {}, '–')
              : h(
                  'td',
                  { class: 'nowrap', title: clock(m.nextAttemptAt) },
                  m.nextAttemptAt ? ago(m.nextAttemptAt, props.now) : m.state === 'dead' ? 'manual replay only' : '–',
                ),
            h(
              'td',
              {},
              m.state === 'dead'
                ? h('button', { type: 'button', class: 'primary', 'aria-label': `Replay ${m.filename}`, onClick: () => props.onReplay(m) }, 'Replay')
                : canSendAgain(m, props.now)
                  ? h(
                      'button',
                      {
                        type: 'button',
                        'aria-label': `Send ${m.filename} again`,
                        title: `Delivers it to ${m.destination} again with the same id; its content is kept until ${clock(m.contentKeptUntil)}`,
                        onClick: () => props.onReplay(m),
                      },
                      'Send again',
                    )
                  : null,
            ),
          );
        }),
      ),
    ),
  );
}

/** A delivered message can go again while its content is kept (outbox.keepDeliveredContent). */
function canSendAgain(m: TrailMessage, now: number): boolean {
  return m.state === 'delivered' && m.contentKeptUntil !== null && Date.parse(m.contentKeptUntil) > now;
}

/** Said under the table when a delivered message cannot be sent again, so the operator knows why and what to set. */
function sendAgainHint(messages: TrailMessage[], now: number): string | null {
  const stuck = messages.filter((m) => m.state === 'delivered' && !canSendAgain(m, now));
  if (!stuck.length) return null;
  return 'A delivered message can be sent again only while its content is kept: set outbox.keepDeliveredContent (off by default) in the config file.';
}

/** Why an email has no pipeline messages to show. */
function noMessages(email: EmailView): string {
  if (email.state === 'filtered') return 'The filter left this email out: no pipeline messages were made.';
  return 'No pipeline messages are kept for this email any more: delivered ones are forgotten after a while (outbox.keepDelivered). The timeline above is what is left.';
}

export function EmailTrailDialog(props: { id: string; title: string; onClose: () => void; onChanged: () => void }) {
  const path = `/api/emails/${encodeURIComponent(props.id)}`;
  // An unknown id (the email was forgotten, or the connection renamed) is an answer, not an error.
  const { data, error, reload, loadedAt } = useRefresh(
    () => api.get<EmailTrailView>(path).catch((caught: unknown) => (caught instanceof ApiError && caught.status === 404 ? GONE : Promise.reject(caught))),
    REFRESH_MS,
  );
  const [message, setMessage] = useState<string | null>(null);
  const now = loadedAt || Date.now();

  const replay = async (m: TrailMessage) => {
    try {
      setMessage(replayMessage(await api.json<ReplayResult>('POST', `/api/pipeline-messages/${encodeURIComponent(m.id)}/replay`)));
      await reload();
      props.onChanged();
    } catch (caught) {
      setMessage(caught instanceof ApiError || caught instanceof Error ? caught.message : String(caught));
    }
  };

  return h(
    Modal,
    { title: props.title, labelId: 'email-trail-title', onClose: props.onClose, wide: true },
    error ? h('p', { class: 'error', role: 'alert' }, `Could not load the trail: ${error}`) : null,
    !data && !error ? h('p', { class: 'muted' }, 'Loading…') : null,
    data === GONE ? h('p', { class: 'error', role: 'alert' }, 'Postroom no longer knows this email: it was forgotten, or its connection was renamed.') : null,
    data && data !== GONE
      ? h(
          'div',
          { class: 'trail' },
          h(Facts, { email: data.email }),
          message ? h('p', { class: 'flash', role: 'status' }, message) : null,
          h('h3', {}, 'What happened'),
          h(Timeline, { entries: data.timeline, messages: data.messages }),
          h('h3', {}, 'Pipeline messages'),
          data.messages.length
            ? h(Messages, { messages: data.messages, now, onReplay: (m) => void replay(m) })
            : h('p', { class: 'muted' }, noMessages(data.email)),
          sendAgainHint(data.messages, now) ? h('p', { class: 'muted' }, sendAgainHint(data.messages, now)) : null,
        )
      : null,
    h('div', { class: 'actions' }, h('span', { class: 'spacer' }), h('button', { type: 'button', onClick: props.onClose }, 'Close')),
  );
}

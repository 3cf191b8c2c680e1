/**
 * The Dead letters page's "Reload destinations from the config file" button and its result line:
 * after fixing a destination in postroom.yaml, reload, then replay. Says which destinations
 * changed, what needs a restart, or the file's error (nothing changed then).
 */
import { h } from 'preact';
import { useState } from 'preact/hooks';
import type { DestinationReload } from '../../schemas.ts';
import { ApiError, api } from './api.ts';

/** What the reload did, in words. */
export function reloadMessage(result: DestinationReload): string {
  const changed = result.changed.length
    ? `Reloaded: ${result.changed.map((c) => `${c.name} (${c.fields.join(', ')})`).join(', ')} changed; replays now use the new settings.`
    : 'Reloaded: no destination changed.';
  const left = result.notApplied.length ? ` Not applied: ${result.notApplied.map((n) => `${n.name}: ${n.reason}`).join('; ')}.` : '';
  return `${changed}${left}`;
}

export function ReloadDestinations() {
  const [line, setLine] = useState<{ text: string; failed: boolean } | null>(null);
  const [busy, setBusy] = useState(false);
  const reload = async () => {
    setBusy(true);
    try {
      setLine({ text: reloadMessage(await api.json<DestinationReload>('POST', '/api/destinations/reload')), failed: false });
    } catch (caught) {
      setLine({ text: `Not reloaded, nothing changed: ${caught instanceof ApiError ? caught.message : String(caught)}`, failed: true });
    } finally {
      setBusy(false);
    }
  };
  return h(
    'div',
    { class: 'toolbar' },
    h('button', { type: 'button', disabled: busy, onClick: () => void reload() }, 'Reload destinations from the config file'),
    line ? h('span', { class: line.failed ? 'error' : 'muted', role: line.failed ? 'alert' : 'status' }, line.text) : null,
  );
}

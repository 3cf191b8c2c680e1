/**
 * What the API shows of a connection: every setting except secrets. A secret is replaced by
 * `<name>Set: true` (`passwordSet`), so the UI can say "a password is stored" without ever
 * receiving it. Durations are shown as they are written in postroom.yaml ("60s", "5m").
 */
import { formatDuration } from '../config/duration.ts';
import { connectionWarnings } from '../config/load-config.ts';
import { isSecretKey } from './connection-input.ts';
import type { ConnectionEntry } from './connection-registry.ts';
import type { ConnectionView } from './schemas.ts';
import { isPlainObject } from './validation.ts';

const DURATION_KEYS = new Set(['pollingInterval', 'throttleLatency', 'connectTimeout', 'idleRestart']);
/** Durations one block down: Graph's request budget window. */
const NESTED_DURATION_KEYS: Record<string, ReadonlySet<string>> = { requestBudget: new Set(['window']) };

function redact(value: unknown, depth: number, durations: ReadonlySet<string> = DURATION_KEYS): unknown {
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1, new Set()));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (isSecretKey(key)) {
      if (item !== undefined && item !== '') out[`${key}Set`] = true;
    } else if (durations.has(key) && typeof item === 'number') {
      out[key] = formatDuration(item);
    } else {
      out[key] = redact(item, depth + 1, (depth === 0 && NESTED_DURATION_KEYS[key]) || new Set());
    }
  }
  return out;
}

export function toConnectionView(entry: ConnectionEntry): ConnectionView {
  // A stored connection that no longer validates is shown as written, so it can be fixed.
  const settings = (entry.config ? redact(entry.config, 0) : redact(entry.input, 0)) as Record<string, unknown>;
  return {
    ...settings,
    name: entry.name,
    hostType: String(settings.hostType ?? 'imap'),
    enabled: entry.enabled,
    source: entry.source,
    readOnly: entry.source === 'config',
    ...(entry.problem ? { problem: entry.problem } : {}),
    warnings: entry.config ? connectionWarnings(entry.config, entry.input, 'connection') : [],
  } as ConnectionView;
}

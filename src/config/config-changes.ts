/**
 * What differs between two loaded configurations, as a reload of the config file needs to know:
 * per destination changed (and which of its fields), unchanged, added or removed; and which other
 * top-level sections differ (connections, store, api, ...), which only a restart applies.
 *
 * Values are compared, never returned: the answer names fields, so a secret's value never
 * leaves here.
 */
import type { Config } from './schema.ts';

export interface ChangedDestination {
  name: string;
  type: string;
  /** The option names whose values differ (`url`, `secret`, `type`), never their values. */
  fields: string[];
}

export interface ConfigChanges {
  changed: ChangedDestination[];
  unchanged: string[];
  added: string[];
  removed: string[];
  /** Top-level sections other than `destinations` whose settings differ. */
  otherSections: string[];
}

/** JSON with object keys sorted, so two equal settings read the same whatever order they were written in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

export function configChanges(before: Config, after: Config): ConfigChanges {
  const changes: ConfigChanges = { changed: [], unchanged: [], added: [], removed: [], otherSections: [] };
  for (const [name, options] of Object.entries(after.destinations)) {
    const old = before.destinations[name];
    if (!old) {
      changes.added.push(name);
      continue;
    }
    const keys = [...new Set([...Object.keys(old), ...Object.keys(options)])].sort();
    const fields = keys.filter((key) => canonical((old as Record<string, unknown>)[key]) !== canonical((options as Record<string, unknown>)[key]));
    if (fields.length) changes.changed.push({ name, type: options.type, fields });
    else changes.unchanged.push(name);
  }
  changes.removed = Object.keys(before.destinations).filter((name) => !Object.hasOwn(after.destinations, name));
  const sections = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((key) => key !== 'destinations').sort();
  changes.otherSections = sections.filter(
    (key) => canonical((before as unknown as Record<string, unknown>)[key]) !== canonical((after as unknown as Record<string, unknown>)[key]),
  );
  return changes;
}

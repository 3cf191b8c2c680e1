/**
 * Every source, one line each, loaded the first time a connection of its protocol is used (IMAP's
 * client library is never loaded for a config without IMAP). Adding a protocol touches its folder
 * and one line here.
 */
import { PostroomError } from '../model/errors.ts';
import type { Protocol, Source } from './source.ts';

const SOURCES: Partial<Record<Protocol, () => Promise<Source>>> = {
  imap: async () => (await import('./imap/imap-source.ts')).imapSource,
  pop3: async () => (await import('./pop3/pop3-source.ts')).pop3Source,
  graph: async () => (await import('./graph/graph-source.ts')).graphSource,
};

const loaded = new Map<Protocol, Source>();

export async function loadSource(protocol: Protocol): Promise<Source> {
  const already = loaded.get(protocol);
  if (already) return already;
  const load = SOURCES[protocol];
  if (!load) throw new PostroomError('CAPABILITY_MISSING', `hostType ${protocol} is not available in this build`);
  const source = await load();
  loaded.set(protocol, source);
  return source;
}

/** The source of a protocol already loaded by loadSource (e.g. by the poll that just ran), else undefined. */
export function loadedSource(protocol: Protocol): Source | undefined {
  return loaded.get(protocol);
}

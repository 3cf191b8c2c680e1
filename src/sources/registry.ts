/** Every source, one line each. Adding a protocol touches its folder and one line here. */
import { PostroomError } from '../errors.ts';
import { graphSource } from './graph/graph-source.ts';
import { imapSource } from './imap/imap-source.ts';
import { pop3Source } from './pop3/pop3-source.ts';
import type { Protocol, Source } from './source.ts';

const SOURCES: Partial<Record<Protocol, Source>> = {
  imap: imapSource,
  pop3: pop3Source,
  graph: graphSource,
};

export function sourceFor(protocol: Protocol): Source {
  const source = SOURCES[protocol];
  if (!source) throw new PostroomError('CAPABILITY_MISSING', `hostType ${protocol} is not available in this build`);
  return source;
}

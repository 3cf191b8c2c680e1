/**
 * Undoes the one change a POP3 server makes to an email it sends: a message whose last line has
 * no newline gets a CRLF before the terminating "." (RFC 1939 needs the dot on a line of its
 * own), and the client cannot tell it from a CRLF that was in the message. The LIST size can:
 * it counts the message as stored, so a RETR exactly 2 bytes longer that ends in CRLF had it
 * added by the server. That CRLF is dropped, so the raw email is byte-exact.
 *
 * With a server whose LIST sizes are only estimates (RFC 1939 allows that), the rule can at
 * worst drop one trailing CRLF of an email whose estimate was 2 bytes short: harmless to MIME.
 */
import { Transform, type TransformCallback } from 'node:stream';

const HELD_BYTES = 2;
const CRLF = Buffer.from('\r\n');

export function withoutServerAddedNewline(listedSize: number | undefined): Transform {
  let held = Buffer.alloc(0);
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      total += chunk.length;
      if (chunk.length >= HELD_BYTES) {
        // The usual case: pass the chunk on without copying it, keep its last two bytes back.
        if (held.length) this.push(held);
        held = Buffer.from(chunk.subarray(chunk.length - HELD_BYTES));
        callback(null, chunk.length > HELD_BYTES ? chunk.subarray(0, chunk.length - HELD_BYTES) : undefined);
        return;
      }
      const joined = Buffer.concat([held, chunk]);
      const cut = Math.max(0, joined.length - HELD_BYTES);
      held = joined.subarray(cut);
      callback(null, cut > 0 ? joined.subarray(0, cut) : undefined);
    },
    flush(callback: TransformCallback) {
      const added = listedSize !== undefined && total === listedSize + HELD_BYTES && held.equals(CRLF);
      callback(null, added || held.length === 0 ? undefined : held);
    },
  });
}

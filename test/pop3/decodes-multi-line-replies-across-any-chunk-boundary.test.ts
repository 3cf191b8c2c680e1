import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MultilineDecoder } from '../../src/sources/pop3/multiline-decoder.ts';

/** What a POP3 server sends for `payload` (RFC 1939 section 3): dot-stuffed, CRLF before the final dot. */
function onTheWire(payload: Buffer): Buffer {
  const text = payload.toString('latin1');
  const stuffed = text.replace(/(^|\n)\./g, '$1..');
  const ended = stuffed.endsWith('\r\n') ? stuffed : `${stuffed}\r\n`;
  return Buffer.from(`${ended}.\r\n`, 'latin1');
}

/** The payload as the client must see it: unstuffed, with the CRLF the server added for a missing final newline. */
function expected(payload: Buffer): Buffer {
  return payload.toString('latin1').endsWith('\r\n') ? payload : Buffer.concat([payload, Buffer.from('\r\n')]);
}

function decodeInChunks(wire: Buffer, cuts: number[]): { data: Buffer; rest: Buffer; done: boolean } {
  const decoder = new MultilineDecoder();
  const data: Buffer[] = [];
  const rest: Buffer[] = [];
  let done = false;
  let start = 0;
  for (const end of [...cuts, wire.length]) {
    const result = decoder.feed(wire.subarray(start, end));
    // Slices of the chunk: copy them as a caller that keeps them would.
    data.push(...result.data.map((b) => Buffer.from(b)));
    if (result.done) {
      done = true;
      rest.push(Buffer.from(result.rest));
    }
    start = end;
  }
  return { data: Buffer.concat(data), rest: Buffer.concat(rest), done };
}

const NEXT_REPLY = Buffer.from('+OK 2 messages\r\n');

const payloads: Record<string, Buffer> = {
  'dot-stuffed lines': Buffer.from('Subject: dots\r\n\r\n.\r\n..\r\n.x\r\n...three\r\nmid.dle\r\n.\r\nend\r\n'),
  'no final newline': Buffer.from('Subject: open\r\n\r\nlast line without newline'),
  'a line that starts with ".\\r" but is not the terminator': Buffer.from('Subject: cr\r\n\r\n.\rnot the end\r\n'),
  'empty reply': Buffer.alloc(0),
  'bare LF lines': Buffer.from('Subject: lf\n\n.lf dot\nx\r\n'),
  'binary bytes': Buffer.from([...Buffer.from('Subject: bin\r\n\r\n'), 0x00, 0xff, 0x2e, 0x0d, 0x0a, 0x2e, 0x2e, 0x0d, 0x0a]),
};

describe('POP3 multi-line decoding', () => {
  for (const [name, payload] of Object.entries(payloads)) {
    it(`decodes ${name} byte-exact wherever the chunks split`, () => {
      const wire = Buffer.concat([onTheWire(payload), NEXT_REPLY]);
      const want = expected(payload);
      // Every single cut, and every pair of cuts near the end (the terminator split three ways).
      const cutsList: number[][] = [[]];
      for (let cut = 1; cut < wire.length; cut++) cutsList.push([cut]);
      for (let a = Math.max(1, wire.length - NEXT_REPLY.length - 8); a < wire.length; a++) {
        for (let b = a + 1; b < wire.length; b++) cutsList.push([a, b]);
      }
      for (const cuts of cutsList) {
        const { data, rest, done } = decodeInChunks(wire, cuts);
        assert.ok(done, `terminator found with cuts ${cuts.join(',')}`);
        assert.deepEqual(data, want, `payload byte-exact with cuts ${cuts.join(',')}`);
        assert.deepEqual(rest, NEXT_REPLY, `the next reply is left over with cuts ${cuts.join(',')}`);
      }
    });
  }

  it('decodes one byte at a time', () => {
    const payload = payloads['dot-stuffed lines']!;
    const wire = onTheWire(payload);
    const cuts = Array.from({ length: wire.length - 1 }, (_, i) => i + 1);
    const { data, done } = decodeInChunks(wire, cuts);
    assert.ok(done);
    assert.deepEqual(data, expected(payload));
  });

  it('passes a 100 KB line without a newline through in the slices it came in', () => {
    const line = Buffer.alloc(100 * 1024, 'a');
    const payload = Buffer.concat([Buffer.from('Subject: long\r\n\r\n'), line]);
    const wire = onTheWire(payload);
    const decoder = new MultilineDecoder();
    const chunkBytes = 16 * 1024;
    const data: Buffer[] = [];
    for (let start = 0; start < wire.length; start += chunkBytes) {
      const result = decoder.feed(wire.subarray(start, start + chunkBytes));
      for (const slice of result.data) {
        assert.ok(slice.length <= chunkBytes, 'no slice is larger than the chunk it came from');
        data.push(slice);
      }
    }
    assert.ok(decoder.done);
    assert.deepEqual(Buffer.concat(data), expected(payload));
  });

  it('is still waiting when the terminator has not arrived', () => {
    const decoder = new MultilineDecoder();
    const result = decoder.feed(Buffer.from('line\r\n.'));
    assert.equal(result.done, false);
    assert.deepEqual(Buffer.concat(result.data), Buffer.from('line\r\n'));
    const end = decoder.feed(Buffer.from('\r\n'));
    assert.equal(end.done, true);
    assert.equal(end.data.length, 0);
  });
});

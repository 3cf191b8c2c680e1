/**
 * mailsplit's line loop, made cheap for body lines: MessageSplitter (the splitter inside
 * mailparser) finds line ends one byte at a time in JavaScript and then runs processLine(), a
 * result object and a callback for every line, even for the ~1,300 lines of a 100 KB base64
 * attachment that can only ever extend the body slice it is in. Splitting the bench mailbox's
 * emails (bench/mailbox.ts: 500 emails, splitEmail with a memory content store, the two loops
 * alternated over 8 rounds) took a median 6.7 CPU ms per email with mailsplit's loop and 4.3 with
 * this one (in another run, finding line ends with indexOf alone gave two thirds of that saving,
 * passing over plain body lines the rest). In a CPU profile of the same split, mailsplit's
 * iterateData went from the top self-time entry (17%) to nothing.
 *
 * This is MessageSplitter#_transform of @zone-eu/mailsplit 5.4.30, line for line, with two
 * changes that leave every pushed object as it was (test/mime/splits-lines-the-same-as-mailsplit-does-byte-for-byte.test.ts):
 * - line ends are found with Buffer#indexOf instead of a byte loop;
 * - in a body, once a line has extended a body/data slice, the lines after it that start with
 *   neither "-" nor CR are passed over in one step: checkBoundary() only takes a line that starts
 *   with "--", or with CR or CRLF before it (a lone LF line is too short), so each of those lines
 *   would go through processLine() only to move the slice end on (onLine's `groupend = i`). The
 *   next line that could be a delimiter, or the unfinished line at the end of the write, is
 *   handled as before.
 * The pending line, its limits, the child node limit, the trailing line break trimming and
 * yielding every YIELD_BYTES of lines handled are mailsplit's own (a skip is one indexOf, so a
 * batch stays cheap however far it jumps).
 *
 * Applied only over the mailsplit version it was copied from, with the methods it calls: any
 * other version keeps its own _transform (and the test that checks this applies fails, so the
 * copy is looked at again rather than silently reverting an upstream fix).
 */
import { createRequire } from 'node:module';
import type { TransformCallback } from 'node:stream';
import mailsplit from '@zone-eu/mailsplit';

/** The version whose _transform this is a copy of. */
const COPIED_FROM_VERSION = '5.4.30';
/** mailsplit's constants (lib/message-splitter.js). */
const YIELD_BYTES = 16 * 1024;
const BODY = 0x02;

const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;
const LF_DASH = Buffer.from('\n-', 'latin1');
const LF_CR = Buffer.from('\n\r', 'latin1');

/** The slice of a mailsplit MimeNode read here. */
interface SplitNode {
  parentNode?: unknown;
  multipart?: unknown;
}

/** What processLine() hands back and _transform pushes: a MimeNode (type 'node') or a slice of data/body bytes. */
interface SplitterGroup {
  type: string;
  node?: SplitNode;
  value?: Buffer;
}

type ProcessLineCallback = (err?: (Error & { code?: string }) | null, data?: SplitterGroup | false, flush?: boolean) => void;

/** The slice of a MessageSplitter this module relies on. */
interface SplitterInternals {
  lineLength: number;
  pendingLineTruncated: boolean;
  hasFailed: boolean;
  nodeCounter: number;
  maxChildNodes: number;
  state: number;
  node: SplitNode;
  push(chunk: unknown): boolean;
  processLine(line: Buffer | false, final: boolean, next: ProcessLineCallback): void;
  checkBoundary(line: Buffer): number | false;
  appendPendingLine(chunk: Buffer): void;
  takePendingLine(): Buffer | false;
  enforcePendingLineLimit(): (Error & { code?: string }) | null;
}

export type SplitterTransform = (this: SplitterInternals, chunk: Buffer, encoding: BufferEncoding, callback: TransformCallback) => void;

const REQUIRED_METHODS = ['processLine', 'checkBoundary', 'appendPendingLine', 'enforcePendingLineLimit', 'takePendingLine'] as const;

const prototype = mailsplit.Splitter.prototype as unknown as Partial<SplitterInternals> & { _transform?: SplitterTransform };

/** mailsplit's own _transform, kept for the test that compares the two. */
export const originalTransform: SplitterTransform | undefined = prototype._transform;
const ownProcessLine = prototype.processLine;
const ownCheckBoundary = prototype.checkBoundary;

/** Moves an end offset back over the line ending that closes a body line of a child node (mailsplit's trimBodyLineEnd). */
function trimBodyLineEnd(group: SplitterGroup, chunk: Buffer, start: number, end: number): number {
  if (group.type !== 'body' || !group.node || !group.node.parentNode) {
    return end;
  }
  if (end > start && chunk[end - 1] === LF) {
    end--;
    if (end > start && chunk[end - 1] === CR) {
      end--;
    }
  }
  return end;
}

export const scanningTransform: SplitterTransform = function (chunk, _encoding, callback) {
  let pos = 0;
  let i = 0;
  let group: SplitterGroup = { type: 'none' };
  let groupstart = this.lineLength ? -this.lineLength : 0;
  let groupend = 0;
  // input position where the current batch started
  let yieldPos = 0;
  // true while processLine() runs synchronously for the current line
  let inLine = false;
  // set when the current line finished synchronously and the batch may continue in place
  let resumeInLine = false;
  // where the next "\n-" and "\n\r" are from the last search on (chunk.length: none), -1 before the first
  let nextLfDash = -1;
  let nextLfCr = -1;
  let lastLf = -2;

  const checkTrailingLinebreak = (data: SplitterGroup & { value: Buffer }): void => {
    if (data.type === 'body' && data.node?.parentNode && data.value?.length) {
      if (data.value[data.value.length - 1] === LF) {
        groupstart--;
        groupend--;
        pos--;
        if (data.value.length > 1 && data.value[data.value.length - 2] === CR) {
          groupstart--;
          groupend--;
          pos--;
          if (groupstart < 0 && !this.lineLength) {
            // store only <CR> as <LF> should be on the positive side
            this.appendPendingLine(Buffer.from([CR]));
          }
          data.value = data.value.slice(0, data.value.length - 2);
        } else {
          data.value = data.value.slice(0, data.value.length - 1);
        }
      } else if (data.value[data.value.length - 1] === CR) {
        groupstart--;
        groupend--;
        pos--;
        data.value = data.value.slice(0, data.value.length - 1);
      }
    }
  };

  const nextLine = (): void => {
    if (inLine && i - yieldPos < YIELD_BYTES) {
      resumeInLine = true;
      return;
    }
    setImmediate(iterateData);
  };

  const onLine: ProcessLineCallback = (err, data, flush) => {
    if (err) {
      this.hasFailed = true;
      setImmediate(() => callback(err));
      return;
    }

    if (!data) {
      return nextLine();
    }

    if (flush) {
      if (group && group.type !== 'none') {
        // do not include the last line ending for body
        groupend = trimBodyLineEnd(group, chunk, groupstart, groupend);
        if (groupstart < groupend) {
          // re-slice, the value the line was emitted with may
          // still include the line ending we just trimmed
          group.value = chunk.slice(groupstart, groupend);
          if (groupend < i && 'value' in data) {
            // the trimmed line ending belongs to the boundary line
            data.value = chunk.slice(groupend, i);
          }
        }
        // the group is pushed even when nothing is left of it, so that a
        // part whose whole body is a line ending still reports a body
        this.push(group);
        group = { type: 'none' };
        groupstart = groupend = i;
      }
      this.push(data);
      groupend = i;
      return nextLine();
    }

    if (data.type === group.type) {
      // shift slice end position forward
      groupend = i;
    } else {
      // do not include the last line ending for body
      groupend = trimBodyLineEnd(group, chunk, groupstart, groupend);

      if (group.type !== 'none' && group.type !== 'node') {
        // we have a previous data/body chunk to output
        if (groupstart !== groupend) {
          group.value = chunk.slice(groupstart, groupend);
          if (group.value?.length) {
            this.push(group);
            group = { type: 'none' };
          }
        }
      }

      if (data.type === 'node') {
        this.push(data);
        groupstart = i;
        groupend = i;
      } else if (groupstart < 0) {
        groupstart = i;
        groupend = i;
        checkTrailingLinebreak(data as SplitterGroup & { value: Buffer });
        if (data.value?.length) {
          this.push(data);
        }
      } else {
        // start new body/data chunk
        group = data;
        groupstart = groupend;
        groupend = i;
      }
    }
    return nextLine();
  };

  /**
   * After a body line extended `group`, passes over the complete lines from `i` on that no
   * delimiter can be: processLine() would hand each back as data of the group's type, and
   * onLine would only move groupend to its end.
   */
  const skipPlainBodyLines = (): void => {
    const first = chunk[i];
    if (first === DASH || first === CR || first === undefined) return;
    if (this.state !== BODY || this.lineLength !== 0 || this.pendingLineTruncated || this.nodeCounter > this.maxChildNodes) return;
    if (group.type !== (this.node.multipart ? 'data' : 'body')) return;
    // a subclass or instance that splits lines its own way decides for itself
    if (this.processLine !== ownProcessLine || this.checkBoundary !== ownCheckBoundary) return;
    if (nextLfDash < i) nextLfDash = found(chunk.indexOf(LF_DASH, i), chunk.length);
    if (nextLfCr < i) nextLfCr = found(chunk.indexOf(LF_CR, i), chunk.length);
    let lf = Math.min(nextLfDash, nextLfCr);
    if (lf === chunk.length) {
      // no candidate in this write: up to its last line end, the rest is the pending line
      if (lastLf === -2) lastLf = chunk.lastIndexOf(LF);
      lf = lastLf;
      if (lf < i) return;
    }
    pos = i = groupend = lf + 1;
  };

  const iterateData = (): void => {
    yieldPos = i;
    while (i < chunk.length) {
      // find next <LF>
      const lf = chunk.indexOf(LF, i);
      if (lf === -1) {
        i = chunk.length;
        break;
      }

      // line end
      const start = Math.max(pos, 0);
      pos = i = lf + 1;

      inLine = true;
      resumeInLine = false;
      this.processLine(chunk.slice(start, i), false, onLine);
      inLine = false;
      if (!resumeInLine) {
        // an error or a scheduled continuation takes over from here
        return;
      }
      skipPlainBodyLines();
    }

    // skip last linebreak for body
    pos = trimBodyLineEnd(group, chunk, groupstart, pos);

    if (group.type !== 'none' && group.type !== 'node' && pos > groupstart) {
      // we have a leftover data/body chunk to push out
      group.value = chunk.slice(groupstart, pos);

      if (group.value?.length) {
        this.push(group);
        group = { type: 'none' };
      }
    }

    if (pos < chunk.length) {
      // checkTrailingLinebreak can push pos before the start of this write when a
      // line ending straddles it. A negative start would make slice() count from
      // the END of the buffer and hand over the wrong bytes entirely.
      this.appendPendingLine(chunk.slice(Math.max(pos, 0)));
    }

    const pendingLineError = this.enforcePendingLineLimit();
    if (pendingLineError) {
      this.hasFailed = true;
      callback(pendingLineError);
      return;
    }
    callback();
  };

  setImmediate(iterateData);
};

function found(index: number, none: number): number {
  return index === -1 ? none : index;
}

function installedVersion(): string | undefined {
  try {
    return (createRequire(import.meta.url)('@zone-eu/mailsplit/package.json') as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** Whether mailsplit is the version and shape the copy was made from, so the replacement is in place. */
export const lineScanApplies: boolean =
  installedVersion() === COPIED_FROM_VERSION &&
  typeof originalTransform === 'function' &&
  REQUIRED_METHODS.every((name) => typeof prototype[name] === 'function');

if (lineScanApplies) prototype._transform = scanningTransform;

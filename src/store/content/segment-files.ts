/**
 * Segment files: small content that is only ever read back through the store (the raw copy of an
 * email that arrived whole in memory) is appended to a file it shares with the content written
 * just before and after it, instead of getting a file of its own. A piece's ref names its
 * segment, offset and length: `<segment ref>@<offset>+<length>`.
 *
 * Why: a file of its own per email costs a create, a close, an fsync and, once the email is
 * delivered, an unlink, and each create on a file system that keeps freed inodes back for a while
 * (ext4 without a journal skips inodes freed in the last 60-360 s, fs/ext4/ialloc.c) walks past
 * every raw email freed in the last minutes. A segment takes a group's pieces with one create and
 * one fsync, and is removed once, when its last piece is.
 *
 * Durability is the content files': a piece is written under its final name, and a ref means
 * something only once a committed row holds it, after `sync` of its segment. A crash leaves at
 * worst a segment no row refers to, which the store's sweep removes at a later start.
 *
 * A segment takes pieces until it holds `SEGMENT_BYTES`, for at most `SEGMENT_OPEN_MS`, or until
 * every piece in it has been removed (then it goes at once, and the next piece starts a new
 * one). Its file is removed with its last piece. Pieces are never empty: two would share an
 * offset. A segment some of whose pieces outlive the process that wrote them (a crash or
 * a restart before their emails were delivered) is not removed piece by piece after the restart:
 * the sweep removes it at a later start, once no row refers to any piece of it. One piece kept
 * for long (a dead letter's raw email) keeps its whole segment on disk, at most `SEGMENT_BYTES`.
 */
import { close, createReadStream, fsync, open, writeSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { fsyncFile } from '../../model/fsync-file.ts';
import { PRIVATE_FILE_MODE } from '../private-files.ts';

const openFd = promisify(open);
const fsyncFd = promisify(fsync);
const closeFd = promisify(close);

/** A segment takes no new piece once it holds this much. */
export const SEGMENT_BYTES = 8 * 1024 * 1024;
/** Content larger than this gets a file of its own: one long-kept piece must not keep much else on disk. */
export const MAX_PIECE_BYTES = 1024 * 1024;
/**
 * Nor once it was opened this long ago. The sweep of another worker on the same content
 * directory removes a file whose last write is an hour old and that no row refers to; a segment
 * that could still take a piece an hour after its last one might lose that piece to it.
 */
export const SEGMENT_OPEN_MS = 10 * 60_000;

const PIECE_REF = /^([0-9a-f]{2}\/[0-9a-f-]{36})@(\d+)\+(\d+)$/;

export interface Piece {
  /** The ref of the segment file (a content file's ref). */
  segment: string;
  offset: number;
  length: number;
}

export function pieceOf(ref: string): Piece | undefined {
  const match = PIECE_REF.exec(ref);
  return match ? { segment: match[1]!, offset: Number(match[2]), length: Number(match[3]) } : undefined;
}

interface Segment {
  ref: string;
  path: string;
  /** Open for appends and fsyncs until it is full and its pieces are durable. */
  fd: number | undefined;
  openedAt: number;
  size: number;
  /** Takes no new pieces. */
  sealed: boolean;
  /** Offsets of the pieces not yet removed. */
  live: Set<number>;
  /** Offsets of the pieces written for a later `sync`. */
  unsynced: Set<number>;
  /** fsyncs running on `fd`: it is closed only when none is. */
  syncing: number;
}

export interface SegmentFiles {
  /** Appends `bytes` to the open segment; on disk when it resolves if `durable`. */
  write(bytes: Buffer, durable: boolean): Promise<string>;
  /** Makes the given pieces durable: one fsync per segment they are in. */
  sync(pieces: readonly string[]): Promise<void>;
  open(ref: string): Readable;
  remove(ref: string): Promise<void>;
}

/**
 * `newRef` gives the ref of a new content file (its directory made); `named` turns an error
 * into the store's own (a full disk named as such).
 */
export function createSegmentFiles(root: string, newRef: () => Promise<string>, named: (error: unknown) => unknown): SegmentFiles {
  const segments = new Map<string, Segment>();
  let current: Segment | undefined;
  let opening: Promise<Segment> | undefined;

  const openSegment = async (): Promise<Segment> => {
    const ref = await newRef();
    const path = join(root, ref);
    const fd = await openFd(path, 'wx', PRIVATE_FILE_MODE).catch((error: unknown) => {
      throw named(error);
    });
    const segment: Segment = { ref, path, fd, openedAt: Date.now(), size: 0, sealed: false, live: new Set(), unsynced: new Set(), syncing: 0 };
    segments.set(ref, segment);
    return segment;
  };
  const open = async (): Promise<Segment> => {
    for (;;) {
      if (current && Date.now() - current.openedAt >= SEGMENT_OPEN_MS) {
        const old = current;
        seal(old);
        await settle(old);
      }
      if (current && !current.sealed) return current;
      opening ??= openSegment().finally(() => (opening = undefined));
      current = await opening;
    }
  };
  const seal = (segment: Segment): void => {
    segment.sealed = true;
    if (current === segment) current = undefined;
  };
  /** Closes a sealed segment's descriptor once nothing needs it, and removes the file once no piece is left. */
  const settle = async (segment: Segment): Promise<void> => {
    if (!segment.sealed || segment.syncing > 0) return;
    if (segment.unsynced.size === 0 && segment.fd !== undefined) {
      const fd = segment.fd;
      segment.fd = undefined;
      await closeFd(fd).catch(() => undefined);
    }
    if (segment.live.size === 0 && segments.get(segment.ref) === segment) {
      segments.delete(segment.ref);
      await unlink(segment.path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
  };
  const syncSegment = async (segment: Segment, offsets: readonly number[]): Promise<void> => {
    if (segment.fd === undefined) return; // sealed and settled: everything in it was synced
    segment.syncing++;
    try {
      await fsyncFd(segment.fd);
    } catch (error) {
      throw named(error);
    } finally {
      segment.syncing--;
      for (const offset of offsets) segment.unsynced.delete(offset);
      await settle(segment);
    }
  };
  const known = (ref: string): { piece: Piece; segment: Segment | undefined } => {
    const piece = pieceOf(ref);
    if (!piece) throw new Error(`not a piece of a segment file: ${ref}`);
    return { piece, segment: segments.get(piece.segment) };
  };

  return {
    async write(bytes, durable) {
      if (bytes.length === 0) throw new Error('an empty piece would share its offset with the next one');
      let segment: Segment;
      // Another writer may fill (or empty and remove) the segment while this one waits to open it.
      do segment = await open();
      while (segment.sealed || segment.fd === undefined);
      const offset = segment.size;
      try {
        for (let done = 0; done < bytes.length; ) done += writeSync(segment.fd, bytes, done, bytes.length - done, offset + done);
      } catch (error) {
        // The size stays: the next piece overwrites whatever part of this one reached the file.
        throw named(error);
      }
      segment.size += bytes.length;
      segment.live.add(offset);
      segment.unsynced.add(offset);
      if (segment.size >= SEGMENT_BYTES) seal(segment);
      if (durable) await syncSegment(segment, [offset]);
      return `${segment.ref}@${offset}+${bytes.length}`;
    },
    async sync(pieces) {
      const bySegment = new Map<Segment, number[]>();
      const unknown = new Set<string>();
      for (const ref of pieces) {
        const { piece, segment } = known(ref);
        if (!segment) unknown.add(piece.segment);
        else if (bySegment.has(segment)) bySegment.get(segment)!.push(piece.offset);
        else bySegment.set(segment, [piece.offset]);
      }
      await Promise.all([
        ...[...bySegment].map(([segment, offsets]) => syncSegment(segment, offsets)),
        ...[...unknown].map((segment) => fsyncFile(join(root, segment))),
      ]);
    },
    open(ref) {
      const { piece } = known(ref);
      return createReadStream(join(root, piece.segment), { start: piece.offset, end: piece.offset + piece.length - 1 });
    },
    async remove(ref) {
      const { piece, segment } = known(ref);
      // Written by an earlier process: the sweep removes the file at a later start, once no row refers to it.
      if (!segment) return;
      segment.live.delete(piece.offset);
      segment.unsynced.delete(piece.offset);
      // Nothing left in it: start the next piece in a new file rather than keep dead bytes on disk.
      if (segment.live.size === 0) seal(segment);
      await settle(segment);
    },
  };
}

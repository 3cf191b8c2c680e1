/** Writes each fetched message to its own file, a bounded number at a time, pausing the socket when behind. */
import { writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';

/** Files being written at once; more only queues in memory. */
const MAX_IN_FLIGHT = 32;

export class FileSink {
  messages = 0;
  bytes = 0;
  private inFlight = 0;
  private failed: Error | undefined;
  private idle: (() => void) | undefined;

  constructor(
    private readonly dir: string,
    private readonly socket: Socket,
  ) {}

  write(name: string, chunks: Buffer[]): void {
    const content = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    this.messages += 1;
    this.bytes += content.length;
    this.inFlight += 1;
    if (this.inFlight >= MAX_IN_FLIGHT) this.socket.pause();
    writeFile(join(this.dir, name), content)
      .catch((error: Error) => (this.failed ??= error))
      .finally(() => {
        this.inFlight -= 1;
        if (this.inFlight < MAX_IN_FLIGHT) this.socket.resume();
        if (this.inFlight === 0) this.idle?.();
      });
  }

  /** Resolves when every file is written (rejects with the first write error). */
  async flushed(): Promise<void> {
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    if (this.failed) throw this.failed;
  }
}

/**
 * Progress for `run --once`: on a terminal, one line per connection redrawn in place
 * ("orders  120/500 emails"); on a pipe or in CI, nothing (logs and the summary say enough).
 */
export interface Progress {
  update(connection: string, done: number, total: number): void;
  finish(): void;
}

const REDRAW_MS = 100;

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { update() {}, finish() {} };
  const lines = new Map<string, string>();
  let drawn = 0;
  let last = 0;
  const draw = (force: boolean): void => {
    const now = Date.now();
    if (!force && now - last < REDRAW_MS) return;
    last = now;
    if (drawn) stream.write(`\x1b[${drawn}A`);
    for (const line of lines.values()) stream.write(`\x1b[2K${line}\n`);
    drawn = lines.size;
  };
  return {
    update(connection, done, total) {
      lines.set(connection, `${connection.padEnd(24)} ${String(done).padStart(6)}/${total} emails`);
      draw(done === total);
    },
    finish() {
      draw(true);
    },
  };
}

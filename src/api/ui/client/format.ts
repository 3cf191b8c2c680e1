/** Times, sizes and counts for people. All relative times are computed against one `now` per render. */

export function ago(iso: string | null | undefined, now: number): string {
  if (!iso) return '–';
  return relative(Date.parse(iso) - now);
}

export function relative(deltaMs: number): string {
  const future = deltaMs > 0;
  const s = Math.round(Math.abs(deltaMs) / 1000);
  const text =
    s < 60
      ? `${s}s`
      : s < 3600
        ? `${Math.round(s / 60)}m`
        : s < 86_400
          ? `${Math.floor(s / 3600)}h ${Math.round((s % 3600) / 60)}m`
          : `${Math.round(s / 86_400)}d`;
  if (s < 1) return 'now';
  return future ? `in ${text}` : `${text} ago`;
}

export function clock(iso: string | null | undefined): string {
  if (!iso) return '';
  return new Date(iso).toLocaleString();
}

export function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** "5 left out (from 3, autoReplies 2)": the emails the filter did not take, by deciding condition; null when none. */
export function leftOutSummary(filtered: Record<string, number>): string | null {
  const counts = Object.entries(filtered).filter(([, emails]) => emails > 0);
  if (!counts.length) return null;
  counts.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const total = counts.reduce((sum, [, emails]) => sum + emails, 0);
  return `${total} left out (${counts.map(([condition, emails]) => `${condition} ${emails}`).join(', ')})`;
}

/** A worker as people read it: "host:12934:4bfbdc" (host, process id, a random tag) → "worker host, process 12934". */
export function workerWords(holder: string): string {
  const match = /^(.+):(\d+):[0-9a-f]+$/.exec(holder);
  return match ? `worker ${match[1]}, process ${match[2]}` : `worker ${holder}`;
}

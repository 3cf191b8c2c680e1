/**
 * Reads a V8 CPU profile (`node --cpu-prof`) and says where the time went: self time summed by
 * where the code lives (Postroom's own files, each package, Node's internals, garbage collection,
 * and "(idle)": the main thread waiting for I/O such as fsync, the network, or SQLite).
 *
 *   node --import tsx bench/profile-summary.ts <file.cpuprofile> [top]
 */
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileLine {
  name: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  byArea: ProfileLine[];
  byFunction: ProfileLine[];
  /** Postroom's own functions with everything they call (inclusive time): which step costs what. */
  byPostroomStep: ProfileLine[];
}

const REPO_MARKER = '/src/';
/** The CLI as bench/run.ts builds it (src/ compiled into bench-results/build/). */
const BUILD_MARKER = '/bench-results/build/';

/** Where a frame's code lives: "postroom src/…", a package name, "node:…", or a V8 pseudo-frame. */
function areaOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:'))
    return url
      .replace(/^node:(internal\/)?/, 'node:')
      .split('/')
      .slice(0, 2)
      .join('/');
  const built = url.lastIndexOf(BUILD_MARKER);
  if (built >= 0) return `postroom src/${url.slice(built + BUILD_MARKER.length)}`;
  const src = url.lastIndexOf(REPO_MARKER);
  if (src >= 0) return `postroom ${url.slice(src + 1)}`;
  return url;
}

function frameName(frame: ProfileNode['callFrame'], area: string): string {
  return `${frame.functionName || '(anonymous)'} ${area.startsWith('(') ? '' : `(${area}:${frame.lineNumber + 1})`}`.trim();
}

export function summarise(profile: CpuProfile, top = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  const steps = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const us = profile.timeDeltas[index] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    total += us;
    const area = areaOf(node.callFrame);
    areas.set(area, (areas.get(area) ?? 0) + us);
    const fn = frameName(node.callFrame, area);
    functions.set(fn, (functions.get(fn) ?? 0) + us);
    // Every Postroom function on this sample's stack gets the time, once (recursion aside).
    const onStack = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const frame = byId.get(at)!.callFrame;
      const frameArea = areaOf(frame);
      if (frameArea.startsWith('postroom ')) onStack.add(frameName(frame, frameArea));
    }
    for (const step of onStack) steps.set(step, (steps.get(step) ?? 0) + us);
  });
  const lines = (map: Map<string, number>): ProfileLine[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000, share: total ? us / total : 0 }));
  return { totalMs: total / 1000, byArea: lines(areas), byFunction: lines(functions), byPostroomStep: lines(steps) };
}

/**
 * What each job of the drain costs per email, for the issue's accounting: the main thread's
 * busy samples, each given to the job of the innermost frame that names one, plus the rest of
 * the process's CPU (the measured user + system time of all threads, less the main thread's
 * busy time): libuv's pool writing and fsyncing files, V8's helper threads. The rows add up to
 * the measured CPU per email. Samples are wall-clock, so time the main thread spent blocked in
 * a system call counts as its job's; where that exceeds the other threads' CPU the last row is
 * negative, and says so.
 */
const JOBS: Array<[job: string, frame: RegExp]> = [
  [
    'MIME parsing (mailparser, mailsplit, libmime, base64, Postroom src/mime)',
    /node_modules\/(mailparser|@zone-eu\/mailsplit|libmime|libbase64|libqp|iconv-lite|encoding-japanese|html-to-text|linkify-it|punycode)|\/src\/mime\//,
  ],
  ['content files: write, hash, fsync, remove (src/store/content)', /\/src\/store\/content\//],
  ['directory destination: link, .json, fsync (src/destinations)', /\/src\/destinations\//],
  ['SQLite store: Kysely, better-sqlite3, Postroom src/store', /node_modules\/(kysely|better-sqlite3)|\/src\/store\//],
  ['IMAP: imapflow and Postroom src/sources', /node_modules\/imapflow|\/src\/sources\//],
  ['delivery loop (src/engine/delivery)', /\/src\/engine\/delivery/],
  ['pickup and the rest of Postroom (src/engine, cli, config, ...)', /\/src\//],
  ['start-up: loading and compiling modules', /^node:internal\/modules|^node:internal\/(vm|bootstrap)/],
  ['TLS and sockets (node:tls, node:net)', /^node:(tls|_tls|net|internal\/(tls|net|stream_base|js_stream))/],
];

export interface AccountingRow {
  job: string;
  msPerEmail: number;
}

export function accountFor(profile: CpuProfile, emails: number, measuredCpuMs: number): AccountingRow[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const jobs = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, index) => {
    const us = profile.timeDeltas[index] ?? 0;
    const leaf = byId.get(id)?.callFrame;
    if (!leaf || leaf.functionName === '(idle)') return;
    busy += us;
    let job = leaf.functionName === '(garbage collector)' ? 'garbage collection (main thread)' : undefined;
    for (let at: number | undefined = id; !job && at !== undefined; at = parentOf.get(at)) {
      // Built code (bench-results/build/, dist/) is src/ compiled: named as src/ for the jobs.
      const url = byId.get(at)!.callFrame.url.replace(/\/(bench-results\/build(-baseline)?|dist)\//, '/src/');
      job = JOBS.find(([, frame]) => frame.test(url))?.[0];
    }
    job ??=
      leaf.functionName === '(program)'
        ? 'V8 and native work outside any JavaScript frame ((program))'
        : "Node's streams, buffers, events and timers, not under a job above";
    jobs.set(job, (jobs.get(job) ?? 0) + us);
  });
  const rows = [...jobs.entries()].sort((a, b) => b[1] - a[1]).map(([job, us]) => ({ job, msPerEmail: us / 1000 / emails }));
  const rest = measuredCpuMs - busy / 1000;
  rows.push({
    job:
      rest >= 0
        ? 'other threads: libuv pool (file writes, fsync, unlink), V8 helpers (GC, compiler)'
        : 'less: main-thread samples blocked in system calls (wall time, not CPU)',
    msPerEmail: rest / emails,
  });
  return rows;
}

export function formatAccounting(rows: AccountingRow[], measuredCpuMsPerEmail: number): string {
  return [
    `CPU per email, by job (sums to the measured ${measuredCpuMsPerEmail.toFixed(2)} ms):`,
    ...rows.map((row) => `  ${row.msPerEmail.toFixed(2).padStart(6)} ms  ${row.job}`),
  ].join('\n');
}

export async function readProfile(path: string): Promise<CpuProfile> {
  return JSON.parse(await readFile(path, 'utf8')) as CpuProfile;
}

export async function summariseFile(path: string, top?: number): Promise<ProfileSummary> {
  return summarise(JSON.parse(await readFile(path, 'utf8')) as CpuProfile, top);
}

export function formatSummary(summary: ProfileSummary): string {
  const row = (line: ProfileLine): string => `  ${(line.share * 100).toFixed(1).padStart(5)}%  ${line.ms.toFixed(0).padStart(7)} ms  ${line.name}`;
  return [
    `main thread, ${(summary.totalMs / 1000).toFixed(1)} s sampled`,
    'by where the code lives (self time):',
    ...summary.byArea.map(row),
    'hottest functions (self time):',
    ...summary.byFunction.map(row),
    "Postroom's steps (inclusive: with everything they call; async work shows only while on the stack):",
    ...summary.byPostroomStep.map(row),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [path, top] = process.argv.slice(2);
  if (!path) throw new Error('usage: profile-summary.ts <file.cpuprofile> [top]');
  process.stdout.write(`${formatSummary(await summariseFile(path, top ? Number(top) : undefined))}\n`);
}

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

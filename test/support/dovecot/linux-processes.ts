/** Process identity and signals, from /proc (Linux): a recycled pid is never mistaken for ours. */
import { readdirSync, readFileSync } from 'node:fs';
import { holdsWithin } from '../wait-for.ts';

export interface ProcessIdentity {
  pid: number;
  /** Start time in clock ticks since boot, so a recycled pid is not mistaken for our process. */
  startTime: string;
}

/** Direct children of `parentPid`, from /proc (Linux). */
export function childProcesses(parentPid: number): ProcessIdentity[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return [];
  }
  const children: ProcessIdentity[] = [];
  for (const entry of entries) {
    const stat = procStat(Number(entry));
    if (stat && stat.ppid === parentPid) children.push({ pid: Number(entry), startTime: stat.startTime });
  }
  return children;
}

export function sameProcess(identity: ProcessIdentity): boolean {
  return procStat(identity.pid)?.startTime === identity.startTime;
}

export function procStat(pid: number): { ppid: number; startTime: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may contain spaces): state is field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    const startTime = fields[19];
    return startTime === undefined ? undefined : { ppid, startTime };
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

export function waitUntilGone(pid: number, timeoutMs: number): Promise<boolean> {
  return holdsWithin(() => !isAlive(pid), timeoutMs, 20);
}

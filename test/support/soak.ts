/**
 * The soak: real worker processes SIGKILLed at random, round after round, while mail keeps
 * arriving and the mail server is restarted now and then; at the end every email and every
 * pipeline message is counted. Two clusters run at once, one on PostgreSQL (content in the
 * database) and one on SQLite (one data directory, several processes), each with an IMAP, a POP3
 * and a Graph connection (the Graph-shaped server, test/support/fake-graph.ts), all delivering
 * into a directory destination.
 *
 * Counted per cluster and protocol: emails sent; lost (sent, never delivered); duplicated (an
 * email or one of its parts delivered under more than one pipeline message id: the same id twice
 * is one delivery, the directory destination replaces it); left on the server (IMAP unseen, POP3
 * not deleted, Graph unread); and pipeline messages still undelivered in the outbox. All must be 0.
 *
 * Used by `npm run soak` (bench/soak.ts, long) and by the test suite (a few rounds).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { openStore } from '../../src/store/open-store.ts';
import { CLI, writeConfigFile } from './cli.ts';
import { makeEmail } from './corpus.ts';
import { startDovecot } from './dovecot.ts';
import { startFakeGraph } from './fake-graph.ts';
import { readDelivered, workspace } from './postroom.ts';
import { POSTGRES_BASE_URL } from './stores.ts';

export interface SoakOptions {
  rounds: number;
  /** New emails per mailbox per round. */
  emailsPerRound?: number;
  /** Workers per cluster. */
  workers?: number;
  /** The longest a round lets the workers run before the kills. */
  maxRunMs?: number;
  /** Dovecot is restarted every this many rounds (0: never). */
  restartEvery?: number;
  /** How long the end waits for everything to be delivered. */
  settleMs?: number;
  /** The CLI to run: [entry, ...node args]; default the checkout's src/cli/main.ts through tsx. */
  command?: string[];
  say?: (line: string) => void;
  /** Where the workers' logs go (worker-<cluster>.log); default the soak's temp dir, removed at the end. */
  logDir?: string;
}

export interface SoakCount {
  cluster: 'postgres' | 'sqlite';
  protocol: 'imap' | 'pop3' | 'graph';
  sent: number;
  delivered: number;
  lost: number;
  duplicated: number;
  leftOnServer: number;
}

export interface SoakFigures {
  rounds: number;
  kills: number;
  /** Workers that exited without being killed (a worker must not). */
  selfExits: number;
  dovecotRestarts: number;
  seconds: number;
  counts: SoakCount[];
  /** Pipeline messages not delivered (pending or dead) per cluster. */
  undelivered: Record<string, number>;
  /** Every pipeline message delivered, all clusters. */
  pipelineMessages: number;
}

const CLUSTERS = ['postgres', 'sqlite'] as const;
/** A SIGTERMed worker that has not stopped after this is SIGKILLed. */
const STOP_MS = 15_000;
/** How often the end looks whether everything arrived. */
const SETTLE_CHECK_MS = 5_000;
const PROTOCOLS = ['imap', 'pop3', 'graph'] as const;
const APP = { tenantId: 'soak-tenant', clientId: 'soak-app', clientSecret: 'soak-secret-Q~x', roles: ['Mail.ReadWrite'] };

interface Cluster {
  name: (typeof CLUSTERS)[number];
  location: string;
  configPath: string;
  outDir: string;
  workers: ChildProcess[];
  sent: Map<string, number>;
}

export async function runSoak(options: SoakOptions): Promise<SoakFigures> {
  const say = options.say ?? (() => undefined);
  const perRound = options.emailsPerRound ?? 2;
  const workerCount = options.workers ?? 2;
  const maxRunMs = options.maxRunMs ?? 3_000;
  const restartEvery = options.restartEvery ?? 10;
  const command = options.command ?? ['--import', import.meta.resolve('tsx'), CLI];
  const started = Date.now();
  const ws = await workspace();
  const dovecot = await startDovecot();
  const graph = await startFakeGraph({ pageSize: 10 });
  graph.addApp(APP);
  const clusters: Cluster[] = [];
  let kills = 0;
  let selfExits = 0;
  let restarts = 0;
  const spawnWorker = (cluster: Cluster): ChildProcess => {
    const log = openSync(join(options.logDir ?? ws.dir, `worker-${cluster.name}.log`), 'a');
    const child = spawn(process.execPath, [...command, '--config', cluster.configPath, 'run'], { stdio: ['ignore', log, log] });
    closeSync(log);
    cluster.workers.push(child);
    return child;
  };
  try {
    for (const name of CLUSTERS) {
      const tag = randomBytes(3).toString('hex');
      const location = name === 'postgres' ? `${POSTGRES_BASE_URL}?schema=soak_${tag}` : join(ws.dir, `store-${name}`);
      const outDir = join(ws.dir, `out-${name}`);
      await mkdir(outDir, { recursive: true });
      const imap = await dovecot.addUser(`${name}imap${tag}`, `pw-${tag}-imap`);
      const pop3 = await dovecot.addUser(`${name}pop${tag}`, `pw-${tag}-pop3`);
      const mailbox = `${name}-${tag}@soak.test`;
      graph.addMailbox(mailbox);
      const common = { pollingInterval: '1s', destination: 'out' };
      const dovecotTls = { ca: dovecot.caPath };
      const connections = [
        {
          name: 'imap',
          hostType: 'imap',
          host: '127.0.0.1',
          port: dovecot.imapsPort,
          useSsl: true,
          username: imap.name,
          password: imap.password,
          tls: dovecotTls,
          ...common,
        },
        {
          name: 'pop3',
          hostType: 'pop3',
          host: '127.0.0.1',
          port: dovecot.pop3sPort,
          useSsl: true,
          username: pop3.name,
          password: pop3.password,
          tls: dovecotTls,
          ...common,
        },
        {
          name: 'graph',
          hostType: 'graph',
          tenantId: APP.tenantId,
          clientId: APP.clientId,
          clientSecret: APP.clientSecret,
          mailbox,
          folder: 'inbox',
          graphEndpoint: graph.url,
          authorityHost: graph.url,
          tls: { ca: graph.caPem },
          ...common,
        },
      ];
      const configPath = await writeConfigFile(
        ws.dir,
        {
          store: location,
          destinations: { out: { type: 'directory', path: outDir } },
          connections,
          retry: { interval: '1s' },
          api: { enabled: false },
          log: { level: 'warn' },
        },
        `postroom-${name}.yaml`,
      );
      const cluster: Cluster = { name, location, configPath, outDir, workers: [], sent: new Map(PROTOCOLS.map((p) => [p, 0])) };
      clusters.push(cluster);
      // Users on the Dovecot side are known by protocol for delivering and counting.
      Object.assign(cluster, { users: { imap: imap.name, pop3: pop3.name, graph: mailbox } });
    }
    const userOf = (cluster: Cluster, protocol: (typeof PROTOCOLS)[number]): string =>
      (cluster as Cluster & { users: Record<string, string> }).users[protocol]!;

    const deliver = async (): Promise<void> => {
      for (const cluster of clusters) {
        for (const protocol of PROTOCOLS) {
          const first = cluster.sent.get(protocol)!;
          const raws = Array.from({ length: perRound }, (_, i) => soakEmail(cluster.name, protocol, first + i));
          if (protocol === 'graph') for (const raw of raws) graph.deliver(userOf(cluster, protocol), raw);
          else await dovecot.deliverMany(userOf(cluster, protocol), raws);
          cluster.sent.set(protocol, first + perRound);
        }
      }
    };

    for (const cluster of clusters) for (let i = 0; i < workerCount; i += 1) spawnWorker(cluster);
    for (let round = 1; round <= options.rounds; round += 1) {
      await deliver();
      await delay(Math.random() * maxRunMs);
      for (const cluster of clusters) {
        // A worker that stopped by itself (it should not) is counted and started again.
        for (const dead of cluster.workers.filter((w) => w.exitCode !== null || w.signalCode !== null)) {
          cluster.workers.splice(cluster.workers.indexOf(dead), 1);
          selfExits += 1;
          spawnWorker(cluster);
        }
        // One or two of the cluster's workers, SIGKILLed mid-whatever, and started again.
        const victims = shuffle(cluster.workers.filter((w) => w.exitCode === null && w.signalCode === null)).slice(0, 1 + Math.floor(Math.random() * 2));
        for (const victim of victims) {
          const gone = new Promise((resolve) => victim.once('exit', resolve));
          victim.kill('SIGKILL');
          await gone;
          cluster.workers.splice(cluster.workers.indexOf(victim), 1);
          kills += 1;
          spawnWorker(cluster);
        }
      }
      if (restartEvery > 0 && round % restartEvery === 0) {
        await dovecot.restart();
        restarts += 1;
      }
      if (round % 10 === 0 || round === options.rounds) say(`round ${round}/${options.rounds}: ${kills} workers killed, Dovecot restarted ${restarts} times`);
    }

    // The end: no more kills; wait until every cluster delivered everything (a killed worker's
    // leases and delivery claims run out first, up to a minute), then a little longer.
    const settleMs = options.settleMs ?? 240_000;
    const deadline = Date.now() + settleMs;
    const expected = (cluster: Cluster): number => [...cluster.sent.values()].reduce((a, b) => a + b, 0);
    for (const cluster of clusters) {
      for (;;) {
        const have = await countIds(cluster.outDir);
        if (have >= expected(cluster) || Date.now() >= deadline) break;
        say(`settling: ${cluster.name} has ${have} of ${expected(cluster)} emails`);
        await delay(SETTLE_CHECK_MS);
      }
    }
    await delay(3_000);
    for (const cluster of clusters) {
      for (const worker of cluster.workers) {
        const gone = new Promise((resolve) => worker.once('exit', resolve));
        worker.kill('SIGTERM');
        // A graceful stop waits for the run in hand; one that takes this long is killed (and counted after).
        const stopping = setTimeout(() => worker.kill('SIGKILL'), STOP_MS);
        await gone;
        clearTimeout(stopping);
      }
      cluster.workers = [];
    }

    const counts: SoakCount[] = [];
    const undelivered: Record<string, number> = {};
    let pipelineMessages = 0;
    for (const cluster of clusters) {
      const delivered = await readDelivered(cluster.outDir);
      pipelineMessages += delivered.length;
      for (const protocol of PROTOCOLS) {
        const sent = cluster.sent.get(protocol)!;
        const mine = delivered.filter((d) => d.envelope.connection === protocol);
        /** Pipeline message ids per email subject and part. */
        const ids = new Map<string, Set<string>>();
        for (const d of mine) {
          const key = `${d.envelope.email.subject}#${d.envelope.partIndex}`;
          ids.set(key, (ids.get(key) ?? new Set()).add(d.envelope.id));
        }
        const subjects = new Set(mine.map((d) => d.envelope.email.subject));
        const lost = Array.from({ length: sent }, (_, i) => soakSubject(cluster.name, protocol, i)).filter((s) => !subjects.has(s)).length;
        const duplicated = [...ids.values()].reduce((n, set) => n + set.size - 1, 0);
        const user = userOf(cluster, protocol);
        const leftOnServer =
          protocol === 'graph'
            ? graph.messages(user).filter((m) => !m.isRead).length
            : protocol === 'pop3'
              ? (await dovecot.listMessages(user)).length
              : (await dovecot.listMessages(user)).filter((m) => !m.flags.includes('\\Seen')).length;
        counts.push({ cluster: cluster.name, protocol, sent, delivered: subjects.size, lost, duplicated, leftOnServer });
      }
      const opened = await openStore(cluster.location);
      try {
        undelivered[cluster.name] = await opened.store.outboxDepth(undefined, ['pending', 'dead']);
      } finally {
        await opened.store.close();
      }
    }
    return {
      rounds: options.rounds,
      kills,
      selfExits,
      dovecotRestarts: restarts,
      seconds: Math.round((Date.now() - started) / 1000),
      counts,
      undelivered,
      pipelineMessages,
    };
  } finally {
    for (const cluster of clusters) for (const worker of cluster.workers) worker.kill('SIGKILL');
    await graph.close();
    await dovecot.stop();
    await ws.dispose();
  }
}

/** The figures as a table, and whether every one that must be 0 is. */
export function soakReport(figures: SoakFigures): { text: string; clean: boolean } {
  const lines = [
    `soak: ${figures.rounds} rounds, ${figures.kills} workers SIGKILLed, ${figures.selfExits} exited by themselves, Dovecot restarted ${figures.dovecotRestarts} times, ${figures.seconds} s`,
    'cluster   protocol  sent  delivered  lost  duplicated  left-on-server',
    ...figures.counts.map(
      (c) =>
        `${c.cluster.padEnd(9)} ${c.protocol.padEnd(9)} ${String(c.sent).padStart(4)}  ${String(c.delivered).padStart(9)}  ${String(c.lost).padStart(4)}  ${String(c.duplicated).padStart(10)}  ${String(c.leftOnServer).padStart(14)}`,
    ),
    `pipeline messages delivered: ${figures.pipelineMessages}; undelivered in the outbox: ${Object.entries(figures.undelivered)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  ];
  const clean =
    figures.counts.every((c) => c.lost === 0 && c.duplicated === 0 && c.leftOnServer === 0) && Object.values(figures.undelivered).every((n) => n === 0);
  const totals = figures.counts.reduce((t, c) => ({ lost: t.lost + c.lost, duplicated: t.duplicated + c.duplicated, left: t.left + c.leftOnServer }), {
    lost: 0,
    duplicated: 0,
    left: 0,
  });
  lines.push(`lost ${totals.lost} / duplicated ${totals.duplicated} / left on the server ${totals.left}: ${clean ? 'clean' : 'NOT CLEAN'}`);
  return { text: lines.join('\n'), clean };
}

export function soakSubject(cluster: string, protocol: string, index: number): string {
  return `soak ${cluster} ${protocol} ${String(index).padStart(6, '0')}`;
}

/** Every seventh email has an attachment, so some emails make two pipeline messages. */
function soakEmail(cluster: string, protocol: string, index: number): Buffer {
  const subject = soakSubject(cluster, protocol, index);
  const attachments = index % 7 === 6 ? [{ filename: `soak-${index}.bin`, content: randomBytes(2048), contentType: 'application/octet-stream' }] : [];
  return makeEmail({ subject, text: `${subject}\n`, attachments }).raw;
}

/** Distinct emails in a destination directory, cheaply (one .json per pipeline message). */
async function countIds(dir: string): Promise<number> {
  const delivered = await readDelivered(dir);
  return new Set(delivered.map((d) => `${d.envelope.connection}/${d.envelope.email.subject}`)).size;
}

function shuffle<T>(items: T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

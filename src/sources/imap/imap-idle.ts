/**
 * IMAP IDLE (RFC 2177): one extra connection per watched folder that tells the engine, within a
 * second or so, that mail arrived, so it polls now rather than at the next polling interval. The
 * watcher never reads mail: the poll does, and its UID cursor keeps every pickup exactly-once, so
 * a spurious or repeated wake-up costs one cheap SEARCH and nothing else.
 *
 * IDLE connections are known to die silently (NAT and firewall timeouts, half-open TCP, servers
 * that end long IDLEs without a word). This one never does:
 *  - it re-issues IDLE every `restartMs` (the connection's `idleRestart`, 5 minutes by default);
 *  - after `silenceMs` without a byte from the server it breaks IDLE and sends NOOP; a NOOP not
 *    answered within `probeTimeoutMs` means the connection is dead or half-open, and it is
 *    dropped: so a dead connection is found within silenceMs + HEARD_CHECK_MS + probeTimeoutMs
 *    (55 s at most);
 *  - it reconnects with jittered exponential backoff, and after every (re)connect asks for a
 *    catch-up poll, so mail that came while it was away (or before it first idled) is taken.
 * On a server without IDLE the watcher says so once and ends; polling carries on alone.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ImapFlow } from 'imapflow';
import type { ImapConnectionConfig } from '../../config/schema.ts';
import { errorMessage } from '../../model/errors.ts';
import type { SourceWatcher, WatchContext } from '../source.ts';
import { serverEndpoint } from '../source-kit.ts';
import { createImapClient } from './imap-client.ts';
import { toImapError } from './imap-errors.ts';

export interface IdleTimings {
  /** Re-issue IDLE this often even when the connection is busy with notifications. */
  restartMs: number;
  /** Probe with NOOP after this long without a byte from the server. */
  silenceMs: number;
  /** A probe not answered within this long means the connection is dead. */
  probeTimeoutMs: number;
  /** First reconnect delay; doubles per failed attempt, with jitter. */
  backoffBaseMs: number;
  /** Longest reconnect delay: a server down for hours is tried about once a minute. */
  backoffMaxMs: number;
}

/**
 * 30 s of silence, then a NOOP with 20 s to answer: a dead connection is found within 55 s (with
 * the 5 s granularity of hearing), under the minute we promise, for ~100 bytes of traffic per
 * quiet half minute. (Dovecot's own "* OK Still here" comes only every 2 minutes, too rarely to
 * serve as the heartbeat.)
 */
const SILENCE_MS = 30_000;
const PROBE_TIMEOUT_MS = 20_000;
/** How often the byte counter is read to tell silence from traffic. */
const HEARD_CHECK_MS = 5_000;
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_MAX_MS = 60_000;
/** A session that lasted this long was healthy: the next reconnect starts from the first delay again. */
const STABLE_SESSION_MS = 60_000;
/** An IDLE the server ends on its own sooner than this is re-issued only after this pause, never in a tight loop. */
const MIN_IDLE_CYCLE_MS = 1_000;
/** LOGOUT on stop gets this long before the socket is simply closed (the server may be the dead one). */
const LOGOUT_TIMEOUT_MS = 2_000;

type CycleEnd = 'ended' | 'closed' | 'stopped' | 'probe';

class ConnectionDead extends Error {}

export class IdleWatcher implements SourceWatcher {
  private readonly timings: IdleTimings;
  private readonly stopping = new AbortController();
  private client: ImapFlow | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly connection: ImapConnectionConfig,
    private readonly context: WatchContext,
    timings: Partial<IdleTimings> = {},
  ) {
    this.timings = {
      restartMs: connection.idleRestart,
      silenceMs: SILENCE_MS,
      probeTimeoutMs: PROBE_TIMEOUT_MS,
      backoffBaseMs: BACKOFF_BASE_MS,
      backoffMaxMs: BACKOFF_MAX_MS,
      ...timings,
    };
  }

  private get endpoint(): { host: string; port: number } {
    return serverEndpoint(this.connection);
  }

  /** Starts watching in the background. Calling it again does nothing. */
  start(): void {
    if (this.stopping.signal.aborted) return;
    this.running ??= this.run().catch((error: unknown) => this.context.log.error({ err: error }, 'IDLE watcher failed; polling carries on'));
  }

  async stop(): Promise<void> {
    if (this.stopping.signal.aborted) return this.running;
    this.stopping.abort();
    const client = this.client;
    if (client?.usable) {
      const loggedOut = client.logout().catch(() => undefined);
      await Promise.race([loggedOut, sleep(LOGOUT_TIMEOUT_MS, undefined, { ref: false })]);
    }
    client?.close();
    await this.running;
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  private async run(): Promise<void> {
    let failures = 0;
    for (let first = true; !this.stopped; first = false) {
      if (!first) {
        const delay = backoffDelay(failures, this.timings);
        this.context.log.info({ attempt: failures, delayMs: delay }, `IDLE: reconnecting in ${(delay / 1000).toFixed(1)} s`);
        await pause(delay, this.stopping.signal);
        if (this.stopped) return;
      }
      const began = Date.now();
      try {
        const outcome = await this.session(first);
        if (outcome === 'no-idle') return;
      } catch (error) {
        if (this.stopped) return;
        const reason = error instanceof ConnectionDead ? error.message : errorMessage(toImapError(error, this.endpoint, { stage: 'connect' }));
        this.context.log.warn({ folder: this.connection.folder }, `IDLE connection lost: ${reason}`);
      } finally {
        // On stop, stop() itself logs out and closes.
        if (!this.stopped) {
          this.client?.close();
          this.client = undefined;
        }
      }
      failures = Date.now() - began >= STABLE_SESSION_MS ? 1 : failures + 1;
    }
  }

  /** One connection: connect, examine the folder, ask for a catch-up poll, then idle until it dies. */
  private async session(first: boolean): Promise<'no-idle' | 'stopped'> {
    const client = createImapClient(this.connection);
    this.client = client;
    // imapflow emits 'error' for socket failures; the pending command rejects too, and 'close' follows.
    client.on('error', (error: Error) => this.context.log.debug({ err: error }, 'IDLE connection error'));
    await client.connect();
    if (!client.capabilities.has('IDLE')) {
      this.context.log.info('the server has no IDLE: new mail is found by polling only');
      await client.logout().catch(() => undefined);
      return 'no-idle';
    }
    // EXAMINE: read-only, so watching never changes a flag (not even \Recent).
    await client.mailboxOpen(this.connection.folder, { readOnly: true });
    if (this.stopped) return 'stopped';
    const closed = new Promise<CycleEnd>((resolve) => client.once('close', () => resolve('closed')));
    client.on('exists', (event) => {
      this.context.log.debug({ count: event.count }, 'IDLE: new mail announced');
      this.context.onMail('new-mail');
    });
    this.context.log.info({ folder: this.connection.folder }, first ? 'IDLE: watching for new mail' : 'IDLE: watching again');
    // Mail may have arrived before this connection was watching (or while it was away).
    this.context.onMail('connected');

    while (!this.stopped) {
      const startedAt = Date.now();
      const idling = client.idle().then(
        (): CycleEnd => 'ended',
        (): CycleEnd => 'ended',
      );
      const cycle = new AbortController();
      const due = this.probeDue(client, startedAt, cycle.signal);
      const stopped = new Promise<CycleEnd>((resolve) =>
        this.stopping.signal.addEventListener('abort', () => resolve('stopped'), { once: true, signal: cycle.signal }),
      );
      const end = await Promise.race([idling, closed, stopped, due]);
      cycle.abort();
      if (end === 'stopped' || this.stopped) return 'stopped';
      if (end === 'closed' || !client.usable) throw new ConnectionDead('the server closed it');
      if (end === 'probe') {
        await this.probe(client);
        await idling;
      } else if (Date.now() - startedAt < MIN_IDLE_CYCLE_MS) {
        await pause(MIN_IDLE_CYCLE_MS, this.stopping.signal);
      }
    }
    return 'stopped';
  }

  /**
   * Resolves 'probe' once IDLE has run for restartMs, or no byte has come from the server for
   * silenceMs (read off imapflow's byte counter, which sees "* OK Still here" and the like too).
   */
  private async probeDue(client: ImapFlow, startedAt: number, signal: AbortSignal): Promise<CycleEnd> {
    let received = client.stats().received;
    let heardAt = startedAt;
    for (;;) {
      const now = Date.now();
      const bytes = client.stats().received;
      if (bytes !== received) {
        received = bytes;
        heardAt = now;
      }
      const dueAt = Math.min(startedAt + this.timings.restartMs, heardAt + this.timings.silenceMs);
      if (now >= dueAt) return 'probe';
      await pause(Math.min(HEARD_CHECK_MS, dueAt - now), signal);
      // A cancelled cycle's promise never settles: it lost the race already.
      if (signal.aborted) return new Promise<CycleEnd>(() => {});
    }
  }

  /** NOOP (which first ends the IDLE with DONE): both answers must come back in time. */
  private async probe(client: ImapFlow): Promise<void> {
    const timeout = new AbortController();
    const answered = client.noop().then(
      () => true,
      () => false,
    );
    const late = sleep(this.timings.probeTimeoutMs, false, { signal: timeout.signal }).catch(() => false);
    const ok = await Promise.race([answered, late]);
    timeout.abort();
    if (!ok) throw new ConnectionDead(`no answer to NOOP within ${this.timings.probeTimeoutMs / 1000} s (dead or half-open connection)`);
  }
}

/** Full-jitter-ish exponential backoff: between half and all of base·2^(attempt−1), capped. */
export function backoffDelay(attempt: number, timings: Pick<IdleTimings, 'backoffBaseMs' | 'backoffMaxMs'>, random: () => number = Math.random): number {
  const ceiling = Math.min(timings.backoffMaxMs, timings.backoffBaseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling * (0.5 + random() / 2));
}

/** Resolves after `ms`, or at once when `signal` aborts; never throws. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal }).catch(() => undefined);
}

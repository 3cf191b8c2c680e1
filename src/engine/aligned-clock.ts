/**
 * A worker's clock set to the database's, for workers on several machines sharing PostgreSQL.
 *
 * Leases, delivery claims and schedules are times every worker compares with its own `now`: a
 * worker whose clock runs two minutes ahead sees a live lease (or another worker's claim on a
 * delivery) as expired and takes it while its holder is still reading or sending. Fencing
 * tokens keep that from emitting an email twice, but two readers of one mailbox, or one
 * pipeline message sent twice by two workers, is what leases and claims are there to prevent.
 * So each worker measures how far its clock is from the database server's (one round trip,
 * taking the middle of it) when it starts and every minute, and adds the difference to every
 * time it reads. A difference under a second is left alone: the shortest lease is 5 s.
 *
 * The difference is measured against the process's wall clock (`Date.now()`) and added to the
 * base clock, so a test's injected clock keeps its own time (on one machine the difference is 0).
 */
import type { Logger } from 'pino';
import type { Clock } from '../model/clock.ts';

/** Differences below this are measurement noise as far as leases go. */
export const CLOCK_TOLERANCE_MS = 1_000;
/** How often the difference is measured again (an NTP step, a suspended VM). */
export const REALIGN_EVERY_MS = 60_000;

export class AlignedClock implements Clock {
  private offsetMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private warnedOffset = 0;

  constructor(
    private readonly base: Clock,
    private readonly databaseTime: () => Promise<number>,
    private readonly log: Logger,
  ) {}

  now(): number {
    return this.base.now() + this.offsetMs;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.base.sleep(ms, signal);
  }

  /** How far this machine's clock is behind the database's (ms; negative: ahead), as applied. */
  get offset(): number {
    return this.offsetMs;
  }

  /** Measures the difference now; an unreachable database keeps the last one. */
  async align(): Promise<void> {
    try {
      const before = Date.now();
      const database = await this.databaseTime();
      const after = Date.now();
      const measured = database - (before + after) / 2;
      this.offsetMs = Math.abs(measured) < CLOCK_TOLERANCE_MS ? 0 : Math.round(measured);
    } catch {
      return; // the store outage is reported by whatever needed the store
    }
    if (this.offsetMs !== 0 && Math.abs(this.offsetMs - this.warnedOffset) >= CLOCK_TOLERANCE_MS) {
      this.warnedOffset = this.offsetMs;
      const seconds = (Math.abs(this.offsetMs) / 1000).toFixed(1);
      this.log.warn(
        { clockOffsetMs: this.offsetMs },
        `this machine's clock is ${seconds} s ${this.offsetMs > 0 ? 'behind' : 'ahead of'} the database server's: Postroom uses the database's time for leases, claims and schedules; set up NTP (e.g. systemd-timesyncd or chrony) so logs agree too`,
      );
    }
  }

  /** Measures now, then every minute until stop(). */
  async start(): Promise<void> {
    await this.align();
    this.timer ??= setInterval(() => void this.align(), REALIGN_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

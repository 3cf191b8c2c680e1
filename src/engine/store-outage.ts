/**
 * While the store does not answer (PostgreSQL restarting or unreachable, a full disk), the
 * scheduler and the delivery lanes back off instead of asking every second and logging each
 * failure: the first failure is logged with what to do, the waits double up to a cap with
 * jitter (so workers that lost the store together do not come back in step), and one line says
 * when the store answers again. Nothing is lost meanwhile: no email is acknowledged and no
 * message marked delivered without the store.
 */
import type { Logger } from 'pino';
import type { Clock } from '../model/clock.ts';
import { errorMessage, isPostroomError } from '../model/errors.ts';

/** The first wait after a failure; doubles each time, ... */
const FIRST_WAIT_MS = 1_000;
/** ... up to this: a store back after a restart is used again within half a minute. */
const MAX_WAIT_MS = 30_000;

/** An error that means the store (not a mail server or destination) failed. */
export function isStoreOutage(error: unknown): boolean {
  return isPostroomError(error, 'STORE_FAILED') || isPostroomError(error, 'DISK_FULL');
}

export class StoreOutage {
  private failures = 0;
  private until = 0;

  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly who: string,
  ) {}

  /** True while the last failure's wait is running. */
  waiting(): boolean {
    return this.failures > 0 && this.clock.now() < this.until;
  }

  /** Records a failure; returns how long to wait before trying again. */
  failed(error: unknown): number {
    this.failures += 1;
    const base = Math.min(MAX_WAIT_MS, FIRST_WAIT_MS * 2 ** (this.failures - 1));
    const wait = Math.round(base / 2 + Math.random() * (base / 2));
    this.until = this.clock.now() + wait;
    if (this.failures === 1) {
      this.log.error({ err: error }, `${this.who} paused: ${errorMessage(error)}`);
    } else {
      this.log.debug({ failures: this.failures, waitMs: wait }, `${this.who}: the store still fails; trying again later`);
    }
    return wait;
  }

  /** The store answered: resets the backoff (and says so once, if it had failed). */
  answered(): void {
    if (this.failures === 0) return;
    this.log.info({ failures: this.failures }, `${this.who} resumed: the store answers again`);
    this.failures = 0;
    this.until = 0;
  }
}

/**
 * Holds one connection's lease for the length of a run (leasing: one worker at a time reads a mailbox).
 *
 * - Without the process lock the lease lasts the polling interval. If a run outlives it, the
 *   next fenced write fails; the keeper then tries to take the lease again, which succeeds only
 *   if no other worker has taken it meanwhile (one atomic statement), so the run either goes on
 *   alone or stops.
 * - With the process lock a heartbeat renews the lease until the run finishes, so no other run
 *   starts before it does.
 */
import type { Logger } from 'pino';
import type { Clock } from '../model/clock.ts';
import { isPostroomError } from '../model/errors.ts';
import type { Lease, Store } from '../store/store.ts';

/** Process-lock lease length: three missed heartbeats before another worker may take over. */
export const PROCESS_LOCK_TTL_MS = 30_000;
export const HEARTBEAT_MS = PROCESS_LOCK_TTL_MS / 3;
/** A lease never shorter than this, so a 1 s polling interval does not expire mid-commit. */
export const MIN_LEASE_MS = 5_000;

export class LeaseKeeper {
  private heartbeat: NodeJS.Timeout | undefined;
  private lost = false;

  private constructor(
    private lease: Lease,
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly processLock: boolean,
    private readonly log: Logger,
  ) {}

  static async acquire(
    store: Store,
    clock: Clock,
    log: Logger,
    connection: string,
    holder: string,
    pollingIntervalMs: number,
    processLock: boolean,
  ): Promise<LeaseKeeper | null> {
    const ttlMs = processLock ? PROCESS_LOCK_TTL_MS : Math.max(pollingIntervalMs, MIN_LEASE_MS);
    const lease = await store.acquireLease(connection, holder, ttlMs, clock.now());
    if (!lease) return null;
    const keeper = new LeaseKeeper(lease, store, clock, ttlMs, processLock, log);
    if (processLock) keeper.startHeartbeat();
    return keeper;
  }

  get current(): Lease {
    return this.lease;
  }

  get isLost(): boolean {
    return this.lost;
  }

  private startHeartbeat(): void {
    this.heartbeat = setInterval(() => {
      this.store
        .renewLease(this.lease, this.ttlMs, this.clock.now())
        .then((renewed) => {
          if (renewed) this.lease = renewed;
          else {
            this.lost = true;
            this.log.warn({ token: this.lease.token }, 'lost the process lock: another worker took the lease');
          }
        })
        .catch((error: unknown) => this.log.warn({ err: error }, 'could not renew the lease'));
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** Runs a fenced write; if the lease ran out and nobody took it, takes it again and retries once. */
  async fenced<T>(write: (lease: Lease) => Promise<T>): Promise<T> {
    try {
      return await write(this.lease);
    } catch (error) {
      if (!isPostroomError(error, 'LEASE_LOST') || this.processLock) {
        if (isPostroomError(error, 'LEASE_LOST')) this.lost = true;
        throw error;
      }
      const again = await this.store.acquireLease(this.lease.connection, this.lease.holder, this.ttlMs, this.clock.now());
      if (!again || again.token <= this.lease.token) {
        this.lost = true;
        throw error;
      }
      this.log.debug({ token: again.token }, 'lease ran out mid-run and was free: took it again');
      this.lease = again;
      return write(this.lease);
    }
  }

  /**
   * Ends the run. Without the process lock the lease stays until it expires (the seed: the
   * worker is the sole reader for the polling interval). With it, the lease is shortened to
   * what is left of the polling interval since the run began, or released.
   */
  async finish(runStartedAt: number, pollingIntervalMs: number): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (!this.processLock || this.lost) return;
    const remaining = runStartedAt + pollingIntervalMs - this.clock.now();
    if (remaining > 0) await this.store.renewLease(this.lease, remaining, this.clock.now()).catch(() => undefined);
    else await this.store.releaseLease(this.lease).catch(() => undefined);
  }

  /** Gives the lease up at once (shutdown). */
  async release(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.store.releaseLease(this.lease).catch(() => undefined);
  }
}

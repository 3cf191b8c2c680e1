/**
 * The new-mail watchers (IMAP IDLE) of one worker: at most one per connection, and only while
 * this worker is the one reading it. A watcher only says "poll now"; the poll takes the lease and
 * reads as usual, so watching adds speed, never a second reader.
 *
 * - Started after a poll of this worker read the mailbox.
 * - Stopped when a poll finds the lease held elsewhere, the account throttled, or the lease lost;
 *   when a tick sees another worker holding the lease; when the connection is disabled, changed
 *   or removed; and when the worker stops. So no account is held open by a worker that does not
 *   read it, and none with more than one watching connection.
 * - A poll that failed for any other reason (server down) leaves a running watcher alone: its own
 *   reconnect is what notices first that the server is back, and it then asks for a catch-up poll.
 */
import type { Logger } from 'pino';
import type { ConnectionConfig } from '../config/schema.ts';
import { loadedSource } from '../sources/registry.ts';
import type { SourceWatcher, WakeReason } from '../sources/source.ts';
import type { Lease } from '../store/store.ts';
import type { PollOutcome } from './poll-connection.ts';

interface Watching {
  watcher: SourceWatcher;
  /** The config the watcher was built from; a changed connection gets a new watcher. */
  config: string;
}

export interface IdleWatchersDeps {
  log: Logger;
  onMail: (connection: string, reason: WakeReason) => void;
}

export class IdleWatchers {
  private readonly watching = new Map<string, Watching>();
  private stopped = false;

  constructor(private readonly deps: IdleWatchersDeps) {}

  get size(): number {
    return this.watching.size;
  }

  /** After a poll this worker ran: watch when it read the mailbox, stop when it may not read it. */
  afterPoll(connection: ConnectionConfig, outcome: PollOutcome): void {
    switch (outcome.status) {
      case 'done':
        this.ensure(connection);
        return;
      case 'failed':
        if (outcome.error.code === 'LEASE_LOST') this.stop(connection.name);
        return;
      case 'throttled':
      case 'leased-elsewhere':
        this.stop(connection.name);
    }
  }

  /** Each scheduler tick: stop watchers for connections gone, changed, or leased by another worker. */
  reconcile(connections: ConnectionConfig[], leases: Lease[], holder: string, now: number): void {
    for (const [name, watching] of this.watching) {
      const connection = connections.find((c) => c.name === name);
      const lease = leases.find((l) => l.connection === name);
      const elsewhere = !!lease && lease.holder !== holder && lease.expiresAt > now;
      if (!connection || JSON.stringify(connection) !== watching.config || elsewhere) this.stop(name);
    }
  }

  async stopAll(): Promise<void> {
    this.stopped = true;
    const all = [...this.watching.values()];
    this.watching.clear();
    await Promise.all(all.map(({ watcher }) => watcher.stop()));
  }

  private ensure(connection: ConnectionConfig): void {
    if (this.stopped || this.watching.has(connection.name)) return;
    // Called after a poll that read the mailbox, so that poll has loaded the source.
    const watcher = loadedSource(connection.hostType)?.watch?.(connection, {
      log: this.deps.log.child({ connection: connection.name }),
      onMail: (reason) => this.deps.onMail(connection.name, reason),
    });
    if (!watcher) return;
    this.watching.set(connection.name, { watcher, config: JSON.stringify(connection) });
    watcher.start();
  }

  private stop(name: string): void {
    const watching = this.watching.get(name);
    if (!watching) return;
    this.watching.delete(name);
    watching.watcher.stop().catch((error: unknown) => this.deps.log.warn({ connection: name, err: error }, 'could not stop the IDLE watcher cleanly'));
  }
}

/** A worker in service mode (scheduler + IDLE watchers), in-process, for the IDLE tests. */
import type { Config } from '../../src/config/schema.ts';
import { createDestination } from '../../src/destinations/registry.ts';
import type { PollOutcome } from '../../src/engine/poll-connection.ts';
import { Worker } from '../../src/engine/worker.ts';
import type { OpenedStore } from '../../src/store/open-store.ts';
import { openWorkspaceStore, quietLog, readDelivered } from '../support/postroom.ts';

export interface RunningWorker {
  worker: Worker;
  opened: OpenedStore;
  /** Every poll outcome so far, in order. */
  polls: PollOutcome[];
  stop(): Promise<void>;
}

export async function startWorker(config: Config): Promise<RunningWorker> {
  const opened = await openWorkspaceStore(config);
  const polls: PollOutcome[] = [];
  const worker = new Worker({ createDestination, config, opened, log: quietLog, onPoll: (_name, outcome) => polls.push(outcome) });
  worker.start();
  return {
    worker,
    opened,
    polls,
    async stop() {
      await worker.stop({ timeoutMs: 10_000 });
      await opened.store.close();
    },
  };
}

/** The IDLE tests' name for the shared waitFor (same arguments). */
export { waitFor as until } from '../support/wait-for.ts';

/** How many complete pipeline messages carry this subject. */
export async function deliveredWithSubject(outDir: string, subject: string): Promise<number> {
  return (await readDelivered(outDir)).filter((d) => d.envelope.email.subject === subject).length;
}

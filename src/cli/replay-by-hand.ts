/**
 * Replays from the command line: delivers pipeline messages with the config file as it is now
 * (a destination edited since they failed is used as edited) and prints what happened to each.
 * Shared by `postroom dead-letters replay` and `postroom replay`.
 */
import type { ReplayOutcome } from '../engine/delivery.ts';
import type { OpenedStore } from '../store/open-store.ts';
import type { CommandContext } from './context.ts';

/** Who the email trail says asked for the replay. */
const REPLAYED_BY = 'the CLI';

export async function replayByHand(context: CommandContext, opened: OpenedStore, ids: readonly string[]): Promise<ReplayOutcome[]> {
  // The delivery code and the destinations' drivers load only for the replaying commands.
  const [{ Worker }, { createDestination }] = await Promise.all([import('../engine/worker.ts'), import('../destinations/registry.ts')]);
  const worker = new Worker({ config: context.loaded.config, opened, log: context.log, createDestination });
  // Traced like the service when telemetry is set up: each replayed delivery continues its email's trace.
  const tracing = await import('../service/telemetry.ts');
  const telemetry = tracing.tracingWanted(context.loaded.config) ? await tracing.startTracing(context.loaded.config) : undefined;
  try {
    return await worker.delivery.replay(ids, REPLAYED_BY);
  } finally {
    await worker.stop();
    await telemetry?.shutdown();
  }
}

/** One line per outcome, in the words a terminal user reads. */
export function describeReplay(outcome: ReplayOutcome): string {
  switch (outcome.outcome) {
    case 'delivered':
      return 'delivered';
    case 'failed':
      return `FAILED again: ${outcome.error ?? 'no reason given'}; ${outcome.nextAttemptAt ? `next attempt ${new Date(outcome.nextAttemptAt).toISOString()}` : 'only a replay will try again'}`;
    case 'queued':
      return 'being delivered by a running worker right now';
    case 'not-found':
      return 'not in the outbox: no such id, or delivered and forgotten after outbox.keepDelivered (`postroom trace` shows the ids)';
    case 'content-gone':
      return `NOT replayed: ${outcome.error ?? 'its content is gone'}`;
  }
}

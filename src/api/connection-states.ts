/** A connection's state on the status board, as the API reports it and the UI shows it (no imports: the browser bundle uses it too). */
export const CONNECTION_STATES = Object.freeze(['ok', 'polling', 'failing', 'needs_reauth', 'throttled', 'paused', 'disabled', 'invalid', 'new'] as const);
export type ConnectionState = (typeof CONNECTION_STATES)[number];

/** States that need someone to look: a poll failing, a sign-in to renew, a config to fix. */
export const FAILING_STATES: ReadonlySet<ConnectionState> = new Set(['failing', 'needs_reauth', 'invalid']);

/**
 * How delivery stands for a connection or a destination: ok (nothing failed), retrying (some
 * messages failed and wait for a quick retry), failing (some are in the dead letters).
 */
export const DELIVERY_STATES = Object.freeze(['ok', 'retrying', 'failing'] as const);
export type DeliveryState = (typeof DELIVERY_STATES)[number];

export function deliveryState(counts: { retrying: number; dead: number }): DeliveryState {
  return counts.dead > 0 ? 'failing' : counts.retrying > 0 ? 'retrying' : 'ok';
}

/** What a replay did to one pipeline message (see the API's ReplayResult). */
export const REPLAY_OUTCOMES = Object.freeze(['delivered', 'failed', 'queued', 'not-found', 'content-gone'] as const);
export type ReplayOutcomeName = (typeof REPLAY_OUTCOMES)[number];

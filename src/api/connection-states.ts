/** A connection's state on the status board, as the API reports it and the UI shows it (no imports: the browser bundle uses it too). */
export const CONNECTION_STATES = Object.freeze(['ok', 'failing', 'needs_reauth', 'throttled', 'disabled', 'invalid', 'new'] as const);
export type ConnectionState = (typeof CONNECTION_STATES)[number];

/** States that need someone to look: a poll failing, a sign-in to renew, a config to fix. */
export const FAILING_STATES: ReadonlySet<ConnectionState> = new Set(['failing', 'needs_reauth', 'invalid']);

/** The email trail's states and timeline events, as the API reports them and the UI shows them (no imports: the browser bundle uses it too). */
export const EMAIL_STATES = Object.freeze(['delivered', 'pending', 'retrying', 'dead', 'filtered'] as const);
export type EmailState = (typeof EMAIL_STATES)[number];

export const TRAIL_EVENTS = Object.freeze([
  'picked up',
  'left out by the filter',
  'acknowledged',
  'delivered',
  'failed',
  'dead letter',
  'replayed',
  'discarded',
] as const);
export type TrailEvent = (typeof TRAIL_EVENTS)[number];

export const DELIVERY_OUTCOMES = Object.freeze(['delivered', 'failed', 'dead', 'replayed', 'discarded'] as const);

/** The email trail in the UI's words: an email's state, a pipeline message's state, a timeline event. */
import type { EmailTrailView } from '../../schemas.ts';
import type { EmailState, TrailEvent } from '../../trail-words.ts';

type TrailMessage = EmailTrailView['messages'][number];

export const EMAIL_STATE_LABEL: Record<EmailState, string> = {
  delivered: 'Delivered',
  pending: 'Waiting to be delivered',
  retrying: 'Retrying',
  dead: 'Dead letter',
  filtered: 'Left out by the filter',
};

/** The badge class of a state, reusing the status board's colours. */
export const EMAIL_STATE_BADGE: Record<EmailState, string> = {
  delivered: 'delivery-ok',
  pending: 'new',
  retrying: 'delivery-retrying',
  dead: 'delivery-failing',
  filtered: 'verdict-left',
};

export function messageState(message: Pick<TrailMessage, 'state' | 'attempts'>): { label: string; badge: string } {
  if (message.state === 'delivered') return { label: 'Delivered', badge: EMAIL_STATE_BADGE.delivered };
  if (message.state === 'dead') return { label: 'Dead letter', badge: EMAIL_STATE_BADGE.dead };
  if (message.state === 'discarded') return { label: 'Discarded', badge: 'verdict-left' };
  if (message.attempts > 0) return { label: 'Retrying', badge: EMAIL_STATE_BADGE.retrying };
  return { label: 'Waiting', badge: EMAIL_STATE_BADGE.pending };
}

export const EVENT_LABEL: Record<TrailEvent, string> = {
  'picked up': 'Picked up',
  'left out by the filter': 'Left out by the filter',
  acknowledged: 'Acknowledged',
  delivered: 'Delivered',
  failed: 'Failed',
  'dead letter': 'Dead letter',
  replayed: 'Replayed',
  discarded: 'Discarded',
};

/** The mark beside an event: good news, bad news, or neither. */
export function eventTone(event: TrailEvent): 'ok' | 'bad' | 'plain' {
  if (event === 'delivered' || event === 'acknowledged') return 'ok';
  if (event === 'failed' || event === 'dead letter') return 'bad';
  return 'plain';
}

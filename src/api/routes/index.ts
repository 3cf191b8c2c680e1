/** Every REST operation, one line each; the server registers them and the OpenAPI document lists them. */
import type { ApiRoute } from '../route.ts';
import { checkConnection } from './check-connection.ts';
import { createConnection } from './create-connection.ts';
import { deleteConnection } from './delete-connection.ts';
import { discardDeadLetter } from './discard-dead-letter.ts';
import { discardDeadLetters } from './discard-dead-letters.ts';
import { getConnection } from './get-connection.ts';
import { getConnectionActivity } from './get-connection-activity.ts';
import { getDeadLetter } from './get-dead-letter.ts';
import { getDeadLetterRaw } from './get-dead-letter-raw.ts';
import { getEmailTrail } from './get-email-trail.ts';
import { getStatus } from './get-status.ts';
import { healthz } from './healthz.ts';
import { listConnectionControls } from './list-connection-controls.ts';
import { listConnectionPolls } from './list-connection-polls.ts';
import { listConnections } from './list-connections.ts';
import { listDeadLetters } from './list-dead-letters.ts';
import { listDestinations } from './list-destinations.ts';
import { listEmails } from './list-emails.ts';
import { metrics } from './metrics.ts';
import { pauseConnection, resumeConnection } from './pause-connection.ts';
import { pollConnectionNow } from './poll-connection-now.ts';
import { previewConnectionRoute } from './preview-connection.ts';
import { reloadDestinations } from './reload-destinations.ts';
import { replayAllDeadLetters } from './replay-all-dead-letters.ts';
import { replayDeadLetter } from './replay-dead-letter.ts';
import { replayDeadLetters } from './replay-dead-letters.ts';
import { replayPipelineMessage } from './replay-pipeline-message.ts';
import { disableConnection, enableConnection } from './set-enabled.ts';
import { updateConnection } from './update-connection.ts';

export const ROUTES: readonly ApiRoute[] = Object.freeze([
  listConnections,
  createConnection,
  getConnection,
  listConnectionPolls,
  getConnectionActivity,
  listConnectionControls,
  updateConnection,
  deleteConnection,
  checkConnection,
  previewConnectionRoute,
  enableConnection,
  disableConnection,
  pollConnectionNow,
  pauseConnection,
  resumeConnection,
  listDestinations,
  reloadDestinations,
  getStatus,
  listDeadLetters,
  replayAllDeadLetters,
  replayDeadLetters,
  discardDeadLetters,
  getDeadLetter,
  getDeadLetterRaw,
  replayDeadLetter,
  discardDeadLetter,
  listEmails,
  getEmailTrail,
  replayPipelineMessage,
  healthz,
  metrics,
]);

/**
 * Versioned migrations, applied by Kysely's Migrator. The Migrator takes a lock (a row lock on
 * PostgreSQL) around the whole run, so several workers starting at once migrate exactly once.
 * Add a migration as a new file and one line here; never edit one that has shipped.
 */
import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './001-initial.ts';
import * as connections from './002-connections.ts';
import * as pollErrorCode from './003-poll-error-code.ts';
import * as outboxDeliveredIndex from './004-outbox-delivered-index.ts';
import * as requestCounts from './005-request-counts.ts';
import * as filteredEmails from './006-filtered-emails.ts';
import * as operatorState from './007-operator-state.ts';
import * as outboxTrace from './011-outbox-trace.ts';
import * as emailTrail from './012-email-trail.ts';
import * as deliveredContent from './013-delivered-content.ts';
import * as connectionControls from './014-connection-controls.ts';
import * as ledgerReleasable from './015-ledger-releasable.ts';

const MIGRATIONS: Record<string, Migration> = {
  '001-initial': initial,
  '002-connections': connections,
  '003-poll-error-code': pollErrorCode,
  '004-outbox-delivered-index': outboxDeliveredIndex,
  '005-request-counts': requestCounts,
  '006-filtered-emails': filteredEmails,
  '007-operator-state': operatorState,
  '011-outbox-trace': outboxTrace,
  '012-email-trail': emailTrail,
  '013-delivered-content': deliveredContent,
  '014-connection-controls': connectionControls,
  '015-ledger-releasable': ledgerReleasable,
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return MIGRATIONS;
  },
};

/**
 * The Microsoft Graph source: a Microsoft 365 mailbox read with an app's client credentials
 * (Mail.ReadWrite application permission). See graph-client.ts for the HTTP side and
 * graph-session.ts for list / fetch / acknowledge.
 */

import { freshGraphTokenProvider, graphTokenProvider } from '../../auth/provider-for.ts';
import { readTokenClaims } from '../../auth/token-claims.ts';
import type { ConnectionConfig, GraphConnectionConfig } from '../../config/schema.ts';
import { errorMessage } from '../../model/errors.ts';
import type { CheckStep, Source, SourceContext, SourceSession } from '../source.ts';
import { GraphClient } from './graph-client.ts';
import { isWellKnownFolder, resolveFolder } from './graph-folders.ts';
import { GraphSession } from './graph-session.ts';

/**
 * A folder path resolved to its id is remembered this long: the engine opens a session for every
 * page, and walking `Inbox/Orders` again would cost requests each time.
 */
const FOLDER_CACHE_MS = 10 * 60_000;
const folders = new Map<string, { ref: string; at: number }>();

/** The application permission the source needs: read, mark read, move and delete mail in any mailbox it may open. */
export const REQUIRED_ROLE = 'Mail.ReadWrite';

function asGraph(connection: ConnectionConfig): GraphConnectionConfig {
  if (connection.hostType !== 'graph') throw new Error(`connection "${connection.name}" is not a Graph connection`);
  return connection;
}

/** A well-known name needs no request: Graph takes it in place of the folder id. */
async function folderRef(client: GraphClient, connection: GraphConnectionConfig, path: string): Promise<string> {
  if (isWellKnownFolder(path)) return path.toLowerCase();
  const key = `${connection.graphEndpoint}|${connection.mailbox.toLowerCase()}|${path}`;
  const known = folders.get(key);
  if (known && Date.now() - known.at < FOLDER_CACHE_MS) return known.ref;
  const { ref } = await resolveFolder(client, path);
  folders.set(key, { ref, at: Date.now() });
  return ref;
}

/** After a failure the folder may have moved or gone: resolve it afresh next time. */
function forgetFolders(connection: GraphConnectionConfig): void {
  const prefix = `${connection.graphEndpoint}|${connection.mailbox.toLowerCase()}|`;
  for (const key of folders.keys()) if (key.startsWith(prefix)) folders.delete(key);
}

/** A client that counts its requests where every worker sees them (the store, when the engine gives it). */
export function graphClient(connection: GraphConnectionConfig, context: SourceContext, tokens = graphTokenProvider(connection)): GraphClient {
  return new GraphClient(connection, tokens, {
    ...(context.requests ? { requests: context.requests } : {}),
    ...(context.signal ? { signal: context.signal } : {}),
    budget: { requests: connection.requestBudget.requests, windowMs: connection.requestBudget.window },
    onPacing: (waitMs, used) =>
      context.log.info(
        { mailbox: connection.mailbox, used, budget: connection.requestBudget.requests, waitMs },
        'Graph request budget nearly spent for this mailbox: pacing requests until the window has room',
      ),
  });
}

/** What the token says about permissions, when it can be read (Graph access tokens are JWTs). */
function permissionStep(token: string, connection: GraphConnectionConfig): CheckStep {
  const who = `app ${connection.clientId} in tenant ${connection.tenantId}`;
  const claims = readTokenClaims(token);
  if (!claims) return { step: 'token', ok: true, detail: `token issued for ${who}` };
  const roles = claims.roles ?? [];
  if (roles.length === 0) {
    return {
      step: 'token',
      ok: false,
      detail: `a token was issued for ${who}, but it carries no application permissions: admin consent has not been granted. Add the Microsoft Graph application permission ${REQUIRED_ROLE} to the app registration and grant admin consent.`,
    };
  }
  if (!roles.includes(REQUIRED_ROLE)) {
    return {
      step: 'token',
      ok: false,
      detail: `the token for ${who} carries ${roles.join(', ')} but not ${REQUIRED_ROLE}: add the Microsoft Graph application permission ${REQUIRED_ROLE} (not the delegated one) and grant admin consent.`,
    };
  }
  return { step: 'token', ok: true, detail: `token issued for ${who} with ${roles.join(', ')}` };
}

export const graphSource: Source = {
  protocol: 'graph',

  async open(config: ConnectionConfig, context: SourceContext): Promise<SourceSession> {
    const connection = asGraph(config);
    const client = graphClient(connection, context);
    const folder = await folderRef(client, connection, connection.folder);
    const moveTo = connection.moveTo ? await folderRef(client, connection, connection.moveTo) : undefined;
    const filtered = connection.filtered;
    const filteredMoveTo = typeof filtered === 'object' ? await folderRef(client, connection, filtered.moveTo) : undefined;
    return new GraphSession(client, connection, folder, moveTo, () => forgetFolders(connection), filteredMoveTo);
  },

  async check(config: ConnectionConfig, context: SourceContext): Promise<CheckStep[]> {
    const connection = asGraph(config);
    const steps: CheckStep[] = [];
    // A fresh provider: a remembered refusal must not hide what the token endpoint says now.
    const tokens = freshGraphTokenProvider(connection);
    let token: string;
    try {
      token = await tokens.getToken();
    } catch (error) {
      steps.push({ step: 'token', ok: false, detail: errorMessage(error) });
      return steps;
    }
    const permission = permissionStep(token, connection);
    steps.push(permission);
    if (!permission.ok) return steps;
    const client = graphClient(connection, context, tokens);
    try {
      await client.json({ method: 'GET', path: 'mailFolders/inbox?$select=id', stage: 'mailbox', what: `mailbox ${connection.mailbox}` });
      steps.push({ step: 'mailbox', ok: true, detail: `mailbox ${connection.mailbox} is open to the app` });
    } catch (error) {
      steps.push({ step: 'mailbox', ok: false, detail: errorMessage(error) });
      return steps;
    }
    for (const [label, path] of [
      ['folder', connection.folder],
      ['moveTo folder', connection.moveTo],
    ] as const) {
      if (path === undefined) continue;
      try {
        const folder = await resolveFolder(client, path);
        steps.push({
          step: 'folder',
          ok: true,
          detail: `${label} "${path}" has ${folder.totalItemCount ?? '?'} emails, ${folder.unreadItemCount ?? '?'} unread`,
        });
      } catch (error) {
        steps.push({ step: 'folder', ok: false, detail: errorMessage(error) });
      }
    }
    return steps;
  },
};

/**
 * The Microsoft Graph source: a Microsoft 365 mailbox read with an app's client credentials
 * (Mail.ReadWrite application permission). See graph-client.ts for the HTTP side and
 * graph-session.ts for list / fetch / acknowledge.
 */
import type { ConnectionConfig, GraphConnectionConfig } from '../../config/schema.ts';
import { errorMessage } from '../../model/errors.ts';
import { freshGraphTokenProvider, graphTokenProvider } from '../../auth/provider-for.ts';
import { readTokenClaims } from '../../auth/token-claims.ts';
import type { CheckStep, Source, SourceContext, SourceSession } from '../source.ts';
import { GraphClient } from './graph-client.ts';
import { isWellKnownFolder, resolveFolder } from './graph-folders.ts';
import { GraphSession } from './graph-session.ts';

/** The application permission the source needs: read, mark read, move and delete mail in any mailbox it may open. */
export const REQUIRED_ROLE = 'Mail.ReadWrite';

function asGraph(connection: ConnectionConfig): GraphConnectionConfig {
  if (connection.hostType !== 'graph') throw new Error(`connection "${connection.name}" is not a Graph connection`);
  return connection;
}

/** A well-known name needs no request: Graph takes it in place of the folder id. */
async function folderRef(client: GraphClient, path: string): Promise<string> {
  return isWellKnownFolder(path) ? path.toLowerCase() : (await resolveFolder(client, path)).ref;
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

  async open(config: ConnectionConfig, _context: SourceContext): Promise<SourceSession> {
    const connection = asGraph(config);
    const client = new GraphClient(connection, graphTokenProvider(connection));
    const folder = await folderRef(client, connection.folder);
    const moveTo = connection.moveTo ? await folderRef(client, connection.moveTo) : undefined;
    return new GraphSession(client, connection, folder, moveTo);
  },

  async check(config: ConnectionConfig, _context: SourceContext): Promise<CheckStep[]> {
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
    const client = new GraphClient(connection, tokens);
    try {
      await client.json({ method: 'GET', path: 'mailFolders/inbox?$select=id', stage: 'mailbox', what: `mailbox ${connection.mailbox}` });
      steps.push({ step: 'mailbox', ok: true, detail: `mailbox ${connection.mailbox} is open to the app` });
    } catch (error) {
      steps.push({ step: 'mailbox', ok: false, detail: errorMessage(error) });
      return steps;
    }
    for (const [label, path] of [['folder', connection.folder], ['moveTo folder', connection.moveTo]] as const) {
      if (path === undefined) continue;
      try {
        const folder = await resolveFolder(client, path);
        steps.push({ step: 'folder', ok: true, detail: `${label} "${path}" has ${folder.totalItemCount ?? '?'} emails, ${folder.unreadItemCount ?? '?'} unread` });
      } catch (error) {
        steps.push({ step: 'folder', ok: false, detail: errorMessage(error) });
      }
    }
    return steps;
  },
};

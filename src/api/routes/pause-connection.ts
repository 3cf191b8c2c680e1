/** POST /api/connections/:name/pause and /resume: an operator stops a connection's polling on every worker, and starts it again. */
import { PostroomError } from '../../model/errors.ts';
import { controlledBy } from '../controlled-by.ts';
import { type ApiContext, type ApiRoute, defineRoute, param } from '../route.ts';
import { errorSchema, pauseResultSchema } from '../schemas.ts';

async function setPaused(context: ApiContext, name: string, paused: boolean, by: string) {
  if (!context.connections.list().some((entry) => entry.name === name)) throw new PostroomError('CONNECTION_NOT_FOUND', `"${name}"`);
  if (context.worker) await context.worker.setPaused(name, paused, by);
  else await context.opened.store.recordControl({ connection: name, action: paused ? 'pause' : 'resume', by, at: context.clock.now() });
  const state = await context.opened.store.getConnectionState(name);
  return { connection: name, paused: state?.pausedBy ? { by: state.pausedBy, at: new Date(state.pausedAt ?? 0).toISOString() } : null };
}

function pauseRoute(pause: boolean): ApiRoute {
  return defineRoute({
    method: 'POST',
    url: `/api/connections/:name/${pause ? 'pause' : 'resume'}`,
    tag: 'connections',
    summary: pause
      ? 'Pause a connection: no worker polls it and its lease is let go, until it is resumed (the outbox still delivers)'
      : 'Resume a paused connection: polled at once, then on its interval',
    description: "Recorded with who asked and when in the connection's controls (GET /api/connections/{name}/controls).",
    responses: {
      200: { description: 'Who paused it and when (null once resumed)', schema: pauseResultSchema },
      404: { description: 'No connection has that name', schema: errorSchema },
    },
    handle: (request, _reply, context) => setPaused(context, param(request, 'name'), pause, controlledBy(request)),
  });
}

export const pauseConnection = pauseRoute(true);
export const resumeConnection = pauseRoute(false);

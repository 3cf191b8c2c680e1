/** GET /api/connections/:name/controls: who paused, resumed or polled the connection now, and when, over the day its polls are kept. */
import { z } from 'zod';
import { PostroomError } from '../../model/errors.ts';
import { defineRoute, param } from '../route.ts';
import { type ConnectionControls, connectionControlsSchema, errorSchema } from '../schemas.ts';
import { parseWith } from '../validation.ts';

const MAX_CONTROLS = 500;

const query = z.object({ limit: z.coerce.number().int().min(1).max(MAX_CONTROLS).default(50) });

const iso = (ms: number): string => new Date(ms).toISOString();

export const listConnectionControls = defineRoute({
  method: 'GET',
  url: '/api/connections/:name/controls',
  tag: 'connections',
  summary: "A connection's operator controls (pause, resume, poll now), newest first: when, what and by whom (the API, the CLI and its user)",
  query,
  responses: {
    200: { description: 'The controls of the last 24 hours', schema: connectionControlsSchema },
    404: { description: 'No connection has that name', schema: errorSchema },
  },
  async handle(request, _reply, { connections, opened }): Promise<ConnectionControls> {
    const name = param(request, 'name');
    if (!connections.get(name)) throw new PostroomError('CONNECTION_NOT_FOUND', `"${name}"`);
    const { limit } = parseWith(query, request.query);
    const controls = await opened.store.recentControls(name, limit);
    return {
      connection: name,
      controls: controls.map((control) => ({
        at: iso(control.at),
        action: control.action,
        by: control.by,
        polledAt: control.polledAt === null ? null : iso(control.polledAt),
      })),
    };
  },
});

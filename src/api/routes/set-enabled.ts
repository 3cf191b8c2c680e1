/** POST /api/connections/:name/enable and /disable: one operation, two verbs. */
import { toConnectionView } from '../connection-view.ts';
import { type ApiRoute, defineRoute, param } from '../route.ts';
import { connectionViewSchema, errorSchema } from '../schemas.ts';

function setEnabled(enabled: boolean): ApiRoute {
  return defineRoute({
    method: 'POST',
    url: `/api/connections/:name/${enabled ? 'enable' : 'disable'}`,
    tag: 'connections',
    summary: enabled ? 'Enable a stored connection (polled at once)' : 'Disable a stored connection (no more polls; the outbox still delivers)',
    responses: {
      200: { description: 'The connection', schema: connectionViewSchema },
      404: { description: 'No connection has that name', schema: errorSchema },
      409: { description: 'The connection comes from postroom.yaml and is read-only here', schema: errorSchema },
    },
    async handle(request, _reply, { connections }) {
      return toConnectionView(await connections.setEnabled(param(request, 'name'), enabled));
    },
  });
}

export const enableConnection = setEnabled(true);
export const disableConnection = setEnabled(false);

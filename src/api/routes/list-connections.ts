import { z } from 'zod';
import { toConnectionView } from '../connection-view.ts';
import { defineRoute } from '../route.ts';
import { connectionViewSchema } from '../schemas.ts';

export const listConnections = defineRoute({
  method: 'GET',
  url: '/api/connections',
  tag: 'connections',
  summary: 'List every connection (postroom.yaml ones are read-only); secrets are never included',
  responses: { 200: { description: 'The connections', schema: z.array(connectionViewSchema) } },
  async handle(_request, _reply, { connections }) {
    return connections.list().map(toConnectionView);
  },
});

import { defineRoute, param } from '../route.ts';
import { errorSchema } from '../schemas.ts';

export const deleteConnection = defineRoute({
  method: 'DELETE',
  url: '/api/connections/:name',
  tag: 'connections',
  summary: 'Delete a stored connection (what it already picked up is still delivered)',
  responses: {
    204: { description: 'Deleted' },
    404: { description: 'No connection has that name', schema: errorSchema },
    409: { description: 'The connection comes from postroom.yaml and is read-only here', schema: errorSchema },
  },
  async handle(request, reply, { connections }) {
    await connections.remove(param(request, 'name'));
    return reply.code(204).send();
  },
});

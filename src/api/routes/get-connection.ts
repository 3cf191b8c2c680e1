import { PostroomError } from '../../model/errors.ts';
import { toConnectionView } from '../connection-view.ts';
import { defineRoute, param } from '../route.ts';
import { connectionViewSchema, errorSchema } from '../schemas.ts';

export const getConnection = defineRoute({
  method: 'GET',
  url: '/api/connections/:name',
  tag: 'connections',
  summary: 'One connection, without secrets',
  responses: { 200: { description: 'The connection', schema: connectionViewSchema }, 404: { description: 'No connection has that name', schema: errorSchema } },
  async handle(request, _reply, { connections }) {
    const name = param(request, 'name');
    const entry = connections.get(name);
    if (!entry) throw new PostroomError('CONNECTION_NOT_FOUND', `"${name}"`);
    return toConnectionView(entry);
  },
});

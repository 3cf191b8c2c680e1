import { connectionSchema } from '../../config/schema.ts';
import { toConnectionView } from '../connection-view.ts';
import { defineRoute, param } from '../route.ts';
import { connectionViewSchema, errorSchema } from '../schemas.ts';

export const updateConnection = defineRoute({
  method: 'PUT',
  url: '/api/connections/:name',
  tag: 'connections',
  summary: "Replace a stored connection's settings; a secret left out (password) keeps its stored value while the server it goes to is unchanged",
  body: { schema: connectionSchema, required: true, description: 'Every setting; leave `password` out to keep the stored one' },
  responses: {
    200: { description: 'Updated', schema: connectionViewSchema },
    400: { description: 'A field is invalid; `issues` names each one', schema: errorSchema },
    404: { description: 'No connection has that name', schema: errorSchema },
    409: { description: 'The connection comes from postroom.yaml and is read-only here', schema: errorSchema },
  },
  async handle(request, _reply, { connections }) {
    return toConnectionView(await connections.update(param(request, 'name'), request.body));
  },
});

import { connectionSchema } from '../../config/schema.ts';
import { toConnectionView } from '../connection-view.ts';
import { defineRoute } from '../route.ts';
import { connectionViewSchema, errorSchema } from '../schemas.ts';

export const createConnection = defineRoute({
  method: 'POST',
  url: '/api/connections',
  tag: 'connections',
  summary: 'Add a connection; it is stored, survives a restart, and is polled at once',
  body: { schema: connectionSchema, required: true, description: 'The same fields as a connection in postroom.yaml' },
  responses: {
    201: { description: 'Created', schema: connectionViewSchema },
    400: { description: 'A field is invalid; `issues` names each one', schema: errorSchema },
    409: { description: 'A connection with that name already exists', schema: errorSchema },
  },
  async handle(request, reply, { connections }) {
    const entry = await connections.create(request.body);
    reply.code(201).header('location', `/api/connections/${encodeURIComponent(entry.name)}`);
    return toConnectionView(entry);
  },
});

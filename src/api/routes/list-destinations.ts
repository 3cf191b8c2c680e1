import { defineRoute } from '../route.ts';
import { destinationListSchema } from '../schemas.ts';

export const listDestinations = defineRoute({
  method: 'GET',
  url: '/api/destinations',
  tag: 'connections',
  summary: "The destinations defined in postroom.yaml (name and type only), for a connection's `destination`",
  responses: { 200: { description: 'The destinations', schema: destinationListSchema } },
  async handle(_request, _reply, { config, worker }) {
    // The worker's: a reload may have changed a destination's type.
    return worker?.destinationList() ?? Object.entries(config.destinations).map(([name, options]) => ({ name, type: options.type }));
  },
});

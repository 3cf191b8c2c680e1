/**
 * POST /api/destinations/reload: read the config file again, exactly as start-up does, and swap in
 * the destinations whose settings changed (SIGHUP does the same). An invalid file changes nothing
 * and is refused with `postroom validate`'s error; what only a restart applies is said, not done.
 */
import { PostroomError } from '../../model/errors.ts';
import { defineRoute } from '../route.ts';
import { destinationReloadSchema, errorSchema } from '../schemas.ts';

/** Who the log says asked for the reload. */
const byTheApi = (ip: string): string => `the API from ${ip}`;

export const reloadDestinations = defineRoute({
  method: 'POST',
  url: '/api/destinations/reload',
  tag: 'connections',
  summary: "Read the config file again and use changed destinations' settings from the next delivery on (as SIGHUP does)",
  description:
    'The whole file is validated as at start-up; when it is invalid nothing changes and the answer is the error `postroom validate` gives, ' +
    'with each field in `issues`. A changed destination is built anew and used by the next delivery; the old one is closed once its ' +
    "deliveries under way are over. `${VAR}` references are expanded from the service's own environment. Added or removed destinations " +
    'and changes to other sections (connections, store, api, ...) need a restart: they are listed under `notApplied`, and left as they were.',
  responses: {
    200: { description: 'What changed, per destination, and what needs a restart', schema: destinationReloadSchema },
    400: { description: 'The config file is invalid (nothing was changed): the field, its line and the fix', schema: errorSchema },
    409: { description: 'This process was not started from a config file', schema: errorSchema },
  },
  async handle(request, _reply, context) {
    if (!context.reloadDestinations) throw new PostroomError('RELOAD_UNAVAILABLE', 'restart the service to change its destinations');
    return context.reloadDestinations(byTheApi(request.ip));
  },
});

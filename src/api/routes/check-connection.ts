import { connectionSchema } from '../../config/schema.ts';
import { loadSource } from '../../sources/registry.ts';
import { apiCheckSteps } from '../check-view.ts';
import { defineRoute, param } from '../route.ts';
import { type CheckResult, checkResultSchema, errorSchema } from '../schemas.ts';

export const checkConnection = defineRoute({
  method: 'POST',
  url: '/api/connections/:name/check',
  tag: 'connections',
  summary: 'Test a connection step by step (DNS, TCP, TLS, login, folder), as `postroom check` does',
  description:
    "Without a body, tests the saved connection. With one (the dialog, before saving), tests those settings; a secret left out is taken from the saved connection of that name only while every field that says where it goes (host, port, useSsl, startTls, tls, tenantId, authorityHost, graphEndpoint, oauth2.tokenUrl) is unchanged, and never from a postroom.yaml connection. Until the login succeeds, a step never shows the server's own words (a banner, a reply): only which step failed and a short reason.",
  body: { schema: connectionSchema, required: false },
  responses: {
    200: { description: 'The steps and whether all passed; a failed step is an answer, not an error', schema: checkResultSchema },
    400: { description: 'A field is invalid', schema: errorSchema },
    404: { description: 'No connection has that name (and no body was given)', schema: errorSchema },
  },
  async handle(request, _reply, { connections, log }): Promise<CheckResult> {
    const name = param(request, 'name');
    const connection = await connections.forCheck(name, request.body ?? undefined);
    const steps = await (await loadSource(connection.hostType)).check(connection, { log: log.child({ connection: name }) });
    return { connection: name, ok: steps.every((step) => step.ok), steps: apiCheckSteps(steps) };
  },
});

import { z } from 'zod';
import { connectionSchema } from '../../config/schema.ts';
import { DEFAULT_PREVIEW_LIMIT, previewConnection } from '../../engine/preview-connection.ts';
import { loadSource } from '../../sources/registry.ts';
import { defineRoute, param } from '../route.ts';
import { errorSchema } from '../schemas.ts';
import { parseWith } from '../validation.ts';

/** A preview downloads what its headers cannot decide: a bound on what one request may cost. */
const MAX_PREVIEW = 200;

const query = z.object({ limit: z.coerce.number().int().min(1).max(MAX_PREVIEW).default(DEFAULT_PREVIEW_LIMIT) });

const previewRowSchema = z
  .object({
    key: z.string(),
    from: z.string().nullable(),
    subject: z.string().nullable(),
    size: z.number().nullable(),
    verdict: z.enum(['taken', 'left', 'unreadable']),
    condition: z.string().nullable().describe('The filter condition that left the email out'),
    reason: z.string(),
    decidedOn: z
      .enum(['server', 'headers', 'content'])
      .describe(
        "`server`: left out by the server's search (IMAP SEARCH) before its headers were read; `headers`: decided before the download; `content`: after it",
      ),
    warning: z.string().optional().describe("Left out by the server's search although its headers meet the condition: that server's search is wrong there"),
    parts: z
      .array(z.object({ kind: z.string(), filename: z.string(), destination: z.string() }))
      .optional()
      .describe('Taken: each pipeline message it would make and its routed destination'),
  })
  .meta({ id: 'PreviewRow' });

export const previewConnectionRoute = defineRoute({
  method: 'POST',
  url: '/api/connections/:name/preview',
  tag: 'connections',
  summary: 'What the next poll would take and leave, and why, as `postroom preview` says; changes nothing',
  description:
    'Without a body, previews the saved connection; with one (the dialog, before saving), those settings, secrets taken as for a check. Reads the server without marking, moving or deleting anything and writes nothing to the store.',
  body: { schema: connectionSchema, required: false },
  query,
  responses: {
    200: { description: 'The emails the next poll would see, in order', schema: z.array(previewRowSchema) },
    400: { description: 'A field is invalid', schema: errorSchema },
    404: { description: 'No connection has that name (and no body was given)', schema: errorSchema },
  },
  async handle(request, _reply, { connections, log, opened }) {
    const name = param(request, 'name');
    const { limit } = parseWith(query, request.query);
    const connection = await connections.forCheck(name, request.body ?? undefined);
    return previewConnection(connection, { store: opened.store, source: await loadSource(connection.hostType), log: log.child({ connection: name }), limit });
  },
});

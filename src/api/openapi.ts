/**
 * The OpenAPI 3.1 document, generated from the route descriptions and their zod schemas: the
 * request bodies are the config file's own schemas (`z.toJSONSchema`, input side), the responses
 * the API's (output side). Nothing here is written by hand twice.
 */
import { z } from 'zod';
import { connectionSchema } from '../config/schema.ts';
import type { ApiRoute } from './route.ts';

type JsonSchema = Record<string, unknown>;

/** Request schemas worth a name in components (shared by several operations). */
const NAMED_INPUTS = new Map<z.ZodType, string>([[connectionSchema, 'ConnectionInput']]);

export interface OpenApiInfo {
  title: string;
  version: string;
}

class Components {
  readonly schemas: Record<string, JsonSchema> = {};

  /** Converts a zod schema; its named parts ($defs) move to components and refs follow them. */
  add(schema: z.ZodType, io: 'input' | 'output', name?: string): JsonSchema {
    const converted = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
    const rewritten = JSON.parse(JSON.stringify(converted).replaceAll('"#/$defs/', '"#/components/schemas/')) as JsonSchema;
    const { $schema: _dialect, $defs, ...root } = rewritten as JsonSchema & { $defs?: Record<string, JsonSchema> };
    for (const [id, def] of Object.entries($defs ?? {})) this.schemas[id] = def;
    if (!name) return root;
    this.schemas[name] = root;
    return { $ref: `#/components/schemas/${name}` };
  }
}

function openApiPath(url: string): { path: string; params: string[] } {
  const params: string[] = [];
  const path = url.replace(/:([A-Za-z_]+)/g, (_match, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path, params };
}

export function buildOpenApi(routes: readonly ApiRoute[], info: OpenApiInfo): JsonSchema {
  const components = new Components();
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const { path, params } = openApiPath(route.url);
    const secured = !route.public;
    const parameters: JsonSchema[] = params.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));
    if (route.query) {
      const query = components.add(route.query, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
      for (const [name, schema] of Object.entries(query.properties ?? {})) {
        parameters.push({ name, in: 'query', required: query.required?.includes(name) ?? false, schema });
      }
    }
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      const contentType = response.contentType ?? 'application/json';
      responses[status] = {
        description: response.description,
        ...(response.headers
          ? {
              headers: Object.fromEntries(
                Object.entries(response.headers).map(([name, header]) => [name, { description: header.description, schema: { type: header.type } }]),
              ),
            }
          : {}),
        ...(response.schema
          ? { content: { [contentType]: { schema: components.add(response.schema, 'output') } } }
          : response.contentType
            ? { content: { [contentType]: {} } }
            : {}),
      };
    }
    if (secured) {
      responses['401'] ??= { description: 'No valid bearer token', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
      responses['429'] ??= {
        description: 'Too many failed logins from this address',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    }
    if (route.method !== 'GET') {
      responses['403'] ??= {
        description: 'Refused as possibly cross-site: send a JSON body or X-Postroom-Request: 1, from no other Origin',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    }
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = {
      operationId: `${route.method.toLowerCase()}${path.replace(/[^A-Za-z]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: [route.tag],
      ...(parameters.length ? { parameters } : {}),
      ...(route.body
        ? {
            requestBody: {
              required: route.body.required,
              ...(route.body.description ? { description: route.body.description } : {}),
              content: { 'application/json': { schema: components.add(route.body.schema, 'input', NAMED_INPUTS.get(route.body.schema)) } },
            },
          }
        : {}),
      responses,
      security: secured ? [{ bearerAuth: [] }] : [],
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: info.title,
      version: info.version,
      description:
        'Postroom turns email accounts into a stream of pipeline messages. Every /api route needs `Authorization: Bearer <api.token>`; every POST, PUT and DELETE a JSON body or `X-Postroom-Request: 1`.',
    },
    paths,
    components: {
      schemas: components.schemas,
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'api.token from postroom.yaml' } },
    },
  };
}

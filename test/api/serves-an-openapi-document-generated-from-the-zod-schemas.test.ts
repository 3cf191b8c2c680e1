import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { ROUTES } from '../../src/api/routes/index.ts';
import { connectionSchema } from '../../src/config/schema.ts';
import { type Workspace, workspace } from '../support/postroom.ts';
import { type ApiHarness, startApi } from './api-kit.ts';

interface Operation {
  summary: string;
  security: unknown[];
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  responses: Record<string, unknown>;
}

describe('the OpenAPI document', () => {
  let ws: Workspace;
  let api: ApiHarness;
  let doc: {
    openapi: string;
    paths: Record<string, Record<string, Operation>>;
    components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
  };

  before(async () => {
    ws = await workspace();
    api = await startApi(ws);
    doc = (await api.app.inject({ method: 'GET', url: '/openapi.json' })).json();
  });
  after(async () => {
    await api?.close();
    await ws?.dispose();
  });

  it('lists every route, with the bearer token on /api ones only', () => {
    assert.equal(doc.openapi, '3.1.0');
    for (const route of ROUTES) {
      const path = route.url.replace(/:([a-z]+)/gi, '{$1}');
      const operation = doc.paths[path]?.[route.method.toLowerCase()];
      assert.ok(operation, `${route.method} ${path} is documented`);
      assert.equal(operation.summary, route.summary);
      assert.deepEqual(operation.security, route.url.startsWith('/api/') ? [{ bearerAuth: [] }] : [], `${route.method} ${path} security`);
      if (route.url.startsWith('/api/')) assert.ok(operation.responses['401'], 'documents the 401');
    }
    assert.ok(doc.components.securitySchemes.bearerAuth);
  });

  it("describes a connection body with the config file's own zod schema", () => {
    const post = doc.paths['/api/connections']!.post!;
    assert.equal(post.requestBody?.content['application/json']?.schema.$ref, '#/components/schemas/ConnectionInput');
    const { $schema: _dialect, ...expected } = z.toJSONSchema(connectionSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    assert.deepEqual(doc.components.schemas.ConnectionInput, expected);
    assert.ok(JSON.stringify(doc.components.schemas.ConnectionInput).includes('"pollingInterval"'));
  });

  it('resolves every $ref inside the document', () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(refs.length > 10);
    for (const ref of refs) assert.ok(doc.components.schemas[ref], `${ref} is defined`);
  });

  it('has interactive docs served from this process', async () => {
    const page = await api.app.inject({ method: 'GET', url: '/docs' });
    assert.equal(page.statusCode, 200);
    assert.ok(!/https?:\/\//.test(page.body.replace(/<!doctype[^>]*>/i, '')), 'no external URL in the page');
    for (const asset of ['/docs/assets/swagger-ui-bundle.js', '/docs/assets/swagger-ui.css', '/docs/init.js']) {
      assert.equal((await api.app.inject({ method: 'GET', url: asset })).statusCode, 200, asset);
    }
    assert.equal((await api.app.inject({ method: 'GET', url: '/docs/assets/package.json' })).statusCode, 404, 'only the listed files');
  });
});

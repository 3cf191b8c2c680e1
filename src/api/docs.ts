/**
 * `/openapi.json` and the interactive docs at `/docs`: Swagger UI served from the swagger-ui-dist
 * package in node_modules (no CDN), pointed at the generated document.
 */
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { PUBLIC_ROUTE } from './auth.ts';

/** The only swagger-ui-dist files served, with their types. */
const SWAGGER_FILES: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

/** Swagger UI sets inline styles and shows data: images; nothing is loaded from elsewhere. */
const DOCS_CSP =
  "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Postroom API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" href="/docs/assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

const DOCS_INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true, tryItOutEnabled: false });\n`;

function swaggerDir(): string {
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

export function registerDocs(app: FastifyInstance, document: Record<string, unknown>): void {
  const body = JSON.stringify(document);
  const dir = swaggerDir();
  app.get('/openapi.json', { config: PUBLIC_ROUTE }, async (_request, reply) => reply.type('application/json; charset=utf-8').send(body));
  app.get('/docs', { config: PUBLIC_ROUTE }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').header('content-security-policy', DOCS_CSP).send(DOCS_HTML),
  );
  app.get('/docs/init.js', { config: PUBLIC_ROUTE }, async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(DOCS_INIT));
  app.get('/docs/assets/:file', { config: PUBLIC_ROUTE }, async (request, reply) => {
    const file = (request.params as { file: string }).file;
    const type = SWAGGER_FILES[file];
    if (!type) return reply.code(404).send({ error: 'NOT_FOUND', message: `no such file: ${file}` });
    return reply
      .type(type)
      .header('cache-control', 'public, max-age=86400')
      .send(createReadStream(join(dir, file)));
  });
}

/** Serves the web UI: one HTML page, its script and its stylesheet, all from this process. */
import type { FastifyInstance } from 'fastify';
import { PUBLIC_ROUTE } from '../auth.ts';
import { uiAssets } from './ui-assets.ts';

/** Everything comes from this origin; the page talks only to its own API. */
const UI_CSP =
  "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** The page, saying whether the API wants a token: the UI then shows its login without first asking the API and getting a 401. */
const page = (tokenRequired: boolean): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Postroom</title>
<meta name="postroom-token" content="${tokenRequired ? 'required' : 'none'}">
<link rel="stylesheet" href="/ui/app.css">
<link rel="icon" href="data:,">
<script type="module" src="/ui/app.js"></script>
</head>
<body>
<div id="app"><p class="loading">Loading Postroom…</p></div>
<noscript>The Postroom web UI needs JavaScript. The REST API is documented at <a href="/docs">/docs</a>.</noscript>
</body>
</html>
`;

export function registerUi(app: FastifyInstance, options: { tokenRequired: boolean }): void {
  const html = page(options.tokenRequired);
  app.get('/', { config: PUBLIC_ROUTE }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').header('content-security-policy', UI_CSP).header('cache-control', 'no-cache').send(html),
  );
  app.get('/ui/app.js', { config: PUBLIC_ROUTE }, async (_request, reply) =>
    reply
      .type('text/javascript; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send((await uiAssets()).js),
  );
  app.get('/ui/app.css', { config: PUBLIC_ROUTE }, async (_request, reply) =>
    reply
      .type('text/css; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send((await uiAssets()).css),
  );
}

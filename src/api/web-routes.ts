/**
 * The browser client and its demo page: GET /web/tidings-client.js (web/
 * tidings-client.ts bundled by esbuild on the first request, kept in memory)
 * and GET /demo (web/demo.html, a notification center on that client). No
 * token is needed to load them; the page takes its token from the URL
 * fragment, which browsers never send to the server.
 */
import type { FastifyInstance } from 'fastify';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

export interface WebRoutesDeps {
  /** folder of tidings-client.ts and demo.html; web/ of this checkout by default */
  dir?: string;
}

/** Bundles the client into one ES module: every import inlined, type-only imports erased. */
export async function bundleClient(dir = WEB_DIR): Promise<string> {
  const result = await build({
    entryPoints: [`${dir}tidings-client.ts`],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'neutral',
    write: false,
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error('esbuild produced no output for tidings-client.ts');
  return output.text;
}

export async function webRoutes(app: FastifyInstance, deps: WebRoutesDeps = {}): Promise<void> {
  const dir = deps.dir ?? WEB_DIR;
  // Built once; a failed build is not cached, so the next request tries again.
  let client: Promise<string> | undefined;
  let page: Promise<string> | undefined;

  app.get('/web/tidings-client.js', { schema: { hide: true } }, async (_request, reply) => {
    client ??= bundleClient(dir).catch((err: unknown) => { client = undefined; throw err; });
    return reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').send(await client);
  });

  app.get('/demo', { schema: { hide: true } }, async (_request, reply) => {
    page ??= readFile(`${dir}demo.html`, 'utf8').catch((err: unknown) => { page = undefined; throw err; });
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').header('referrer-policy', 'no-referrer').send(await page);
  });
}

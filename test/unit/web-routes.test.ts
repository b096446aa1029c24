import { afterAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { webRoutes } from '../../src/api/web-routes.ts';

describe('web routes', () => {
  const app = Fastify();
  afterAll(() => app.close());

  it('serves the client bundled into one ES module, with no import left and the protocol constants inlined', async () => {
    await app.register(webRoutes);
    const response = await app.inject({ method: 'GET', url: '/web/tidings-client.js' });
    expect([response.statusCode, response.headers['content-type']]).toEqual([200, 'text/javascript; charset=utf-8']);
    expect(response.body).toMatch(/export\s*\{[^}]*createTidingsClient/);
    expect(response.body).not.toMatch(/^\s*import\s/m);
    expect(response.body).toContain('4008');
    // Built once: the second answer is the same text.
    expect((await app.inject({ method: 'GET', url: '/web/tidings-client.js' })).body).toBe(response.body);
  });

  it('serves the demo page, which loads the client and keeps its token out of the server', async () => {
    const response = await app.inject({ method: 'GET', url: '/demo' });
    expect([response.statusCode, response.headers['content-type'], response.headers['referrer-policy']]).toEqual([200, 'text/html; charset=utf-8', 'no-referrer']);
    expect(response.body).toContain("from '/web/tidings-client.js'");
    expect(response.body).toContain('location.hash');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { createHttpServer } from '../../src/api/server.ts';
import { createAuthenticator } from '../../src/auth.ts';
import { createLogger } from '../../src/logger.ts';
import { BadRequestError, InternalError, NotFoundError, TidingsError } from '../../src/errors.ts';

describe('HTTP error classes', () => {
  it('carry their code, HTTP status and kind', () => {
    expect(new NotFoundError('no such notification')).toMatchObject({ code: 'TIDINGS_NOT_FOUND', statusCode: 404, kind: 'poison', message: 'no such notification' });
    expect(new BadRequestError('bad', ['body: bad'])).toMatchObject({ code: 'TIDINGS_BAD_REQUEST', statusCode: 400, kind: 'poison', reasons: ['body: bad'] });
    expect(new BadRequestError('too large', ['too large'], 413, 'FST_ERR_CTP_BODY_TOO_LARGE')).toMatchObject({ code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 });
    expect(new InternalError()).toMatchObject({ code: 'TIDINGS_INTERNAL', statusCode: 500, kind: 'bug', message: 'internal error' });
    for (const err of [new NotFoundError('x'), new BadRequestError('x', []), new InternalError()]) expect(err).toBeInstanceOf(TidingsError);
  });
});

describe('createHttpServer error answers', () => {
  let app: FastifyInstance;
  const logged: string[] = [];

  beforeAll(async () => {
    const sink = new Writable({ write(chunk, _encoding, done) { logged.push(String(chunk)); done(); } });
    app = await createHttpServer({ log: createLogger('error', sink), auth: createAuthenticator({ secret: 'a-test-secret-of-at-least-32-characters' }) });
    app.get('/missing', async () => { throw new NotFoundError('no such thing'); });
    app.get('/broken', async () => { throw new Error('database password is hunter2'); });
    app.post('/echo', async (request) => request.body);
    await app.ready();
  });
  afterAll(async () => app?.close());

  it('given an unknown route, then 404 TIDINGS_NOT_FOUND names it', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/nothing?x=1' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: 'TIDINGS_NOT_FOUND', message: 'no route GET /v1/nothing' });
  });

  it('given a route that throws NotFoundError, then 404 with its message and no reasons', async () => {
    const response = await app.inject({ method: 'GET', url: '/missing' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: 'TIDINGS_NOT_FOUND', message: 'no such thing' });
  });

  it('given malformed JSON, then fastify\'s 400 with its code and the reason', async () => {
    const response = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{"a":' });
    expect(response.statusCode).toBe(400);
    const body = response.json();
    expect(body).toMatchObject({ error: 'FST_ERR_CTP_INVALID_JSON_BODY', reasons: [body.message] });
  });

  it('given an error that is not a TidingsError, then 500 TIDINGS_INTERNAL tells nothing of it, and it is logged', async () => {
    const response = await app.inject({ method: 'GET', url: '/broken' });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ error: 'TIDINGS_INTERNAL', message: 'internal error' });
    expect(logged.join('')).toContain('request failed');
  });
});

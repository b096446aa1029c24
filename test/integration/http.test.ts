/** HTTP ingest and health on a real Tidings, and the gateway's authentication. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { startHarness, waitFor, connectClient, callApi, type Harness } from './harness.ts';
import { sourceKey } from '../../src/model/notification.ts';
import { stableId } from '../../src/model/ids.ts';

describe('HTTP', () => {
  let h: Harness;
  let producerToken: string;

  beforeAll(async () => {
    h = await startHarness({ TIDINGS_WS_MAX_CONNECTIONS_PER_USER: '3' });
    producerToken = await h.auth.sign({ userId: 'billing-service', roles: ['producer'] });
  });
  afterAll(async () => h?.stop());

  const post = (body: unknown, token: string | null = producerToken, contentType = 'application/json') =>
    fetch(`${h.tidings.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': contentType, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  const valid = (userId: string) => ({ user_id: userId, type: 'security_password_changed', title: 'Password changed', message: 'Your password was changed', severity: 'warning', source_type: 'login', source_id: randomUUID(), data: { ip: '203.0.113.7' } });

  it('GET /health answers 200 with every dependency healthy', async () => {
    const response = await fetch(`${h.tidings.url}/health`);
    const body = await response.json();
    expect(response.status).toBe(200);
    expect(body).toMatchObject({ status: 'healthy', ready: true });
    for (const name of ['database', 'kafka', 'schema-registry', 'email']) expect(body.checks[name]).toMatchObject({ healthy: true });
    expect((await fetch(`${h.tidings.url}/health/kafka`)).status).toBe(200);
    expect((await fetch(`${h.tidings.url}/health/live`)).status).toBe(200);
  });

  it('POST /v1/events answers 202 for a valid event, which then reaches the recipient\'s socket', async () => {
    const user = `user-${randomUUID()}`;
    const client = await connectClient(h.tidings.wsUrl, await h.auth.sign({ userId: user, roles: [] }));
    const body = valid(user);
    const response = await post(body);
    expect(response.status).toBe(202);
    const key = sourceKey(body, user);
    expect(await response.json()).toMatchObject({ status: 'accepted', source_key: key, notification_ids: { [user]: stableId(key) } });
    const frame = await waitFor(() => client.frames.find((f) => f.type === 'notification'), 'the frame');
    expect(frame).toMatchObject({ notification: { id: stableId(key), category: 'security', severity: 'warning', data: { ip: '203.0.113.7' } } });
    client.socket.close();
  });

  it('POST /v1/events answers 400 with every reason for an invalid event', async () => {
    const response = await post({ user_id: 'u1', type: 'Password Changed', severity: 'urgent', title: 'x', source_type: 'login', data: 'nope' });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: 'TIDINGS_INVALID',
      message: expect.stringContaining('invalid:'),
      reasons: [
        'data: must be a JSON object',
        'message: missing value is not a valid string',
        'severity: "urgent" is not a valid enum (info, success, warning, error, critical, low, medium, high)',
        'source_id: missing value is not a valid string',
      ],
    });
  });

  it('POST /v1/events answers 400 for malformed JSON and 415 for another content type', async () => {
    const malformed = await post('{"user_id":');
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).reasons).toHaveLength(1);
    expect((await post('user_id=u1', producerToken, 'application/x-www-form-urlencoded')).status).toBe(415);
  });

  it('POST /v1/events needs a producer token', async () => {
    expect((await post(valid('u1'), null)).status).toBe(401);
    expect((await post(valid('u1'), 'not-a-jwt')).status).toBe(401);
    const browserUser = await h.auth.sign({ userId: 'u1', roles: [] });
    const forbidden = await post(valid('u1'), browserUser);
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ error: 'TIDINGS_FORBIDDEN' });
  });

  it('the gateway refuses a socket without a valid token or from a foreign origin', async () => {
    await expect(connectClient(h.tidings.wsUrl, 'garbage')).rejects.toThrow('upgrade refused: 401');
    const token = await h.auth.sign({ userId: 'u1', roles: [] });
    await expect(connectClient(h.tidings.wsUrl, token, 'https://evil.example')).rejects.toThrow('upgrade refused: 403');
    const own = await connectClient(h.tidings.wsUrl, token, h.tidings.url);
    own.socket.send(JSON.stringify({ type: 'ping' }));
    await waitFor(() => own.frames.find((f) => f.type === 'pong'), 'pong');
    expect(own.frames[0]).toMatchObject({ type: 'connection', user_id: 'u1' });
    own.socket.close();
  });

  it('unknown routes answer 404 with the route', async () => {
    const response = await fetch(`${h.tidings.url}/v1/nothing?token=secret`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'TIDINGS_NOT_FOUND', message: 'no route GET /v1/nothing' });
  });

  it('POST /v1/events with data nested 20,000 levels deep answers 400 with the reason (was a 500: stack overflow in JSON.stringify)', async () => {
    const deep = `${'{"a":'.repeat(19_999)}{}${'}'.repeat(19_999)}`;
    const response = await post(JSON.stringify(valid('u1')).replace('{"ip":"203.0.113.7"}', deep));
    expect(response.status).toBe(400);
    expect((await response.json()).reasons).toEqual(['data: nested deeper than 32 levels']);
    const title = await post(JSON.stringify({ ...valid('u1'), title: 'placeholder' }).replace('"placeholder"', `${'['.repeat(20_000)}${']'.repeat(20_000)}`));
    expect(title.status).toBe(400);
    expect((await title.json()).reasons).toEqual(['title: nested deeper than 32 levels']);
  });

  it('a cursor with an id that is no UUID or a time out of Postgres\'s range answers 400 (was a 500 from Postgres)', async () => {
    const user = await h.auth.sign({ userId: 'u1', roles: [] });
    const admin = await h.auth.sign({ userId: 'root', roles: ['admin'] });
    const cursor = (iso: string, id: string) => Buffer.from(`${iso}|${id}`).toString('base64url');
    for (const bad of [cursor('2026-01-01T00:00:00.000Z', '-'.repeat(36)), cursor(new Date(-8.64e15).toISOString(), randomUUID())]) {
      expect(await callApi(h, 'GET', `/v1/notifications?cursor=${bad}`, user)).toEqual({ status: 400, body: expect.objectContaining({ reasons: ['cursor: not a cursor from this API'] }) });
      expect((await callApi(h, 'GET', `/v1/admin/audit?cursor=${bad}`, admin)).status).toBe(400);
    }
    expect((await callApi(h, 'GET', `/v1/notifications?cursor=${cursor('2026-01-01T00:00:00.000Z', randomUUID())}`, user)).status).toBe(200);
  });

  it('U+0000 in a path parameter, a query or a body answers 400 (was a 500 from Postgres, or a 202 and then a dead letter)', async () => {
    const admin = await h.auth.sign({ userId: 'root', roles: ['admin', 'producer'] });
    expect(await callApi(h, 'PUT', '/v1/recipients/a%00b', admin, {})).toEqual({ status: 400, body: expect.objectContaining({ reasons: ['params.userId: must not contain U+0000'] }) });
    expect(await callApi(h, 'GET', '/v1/admin/audit?user_id=%00', admin)).toEqual({ status: 400, body: expect.objectContaining({ reasons: ['query.user_id: must not contain U+0000'] }) });
    expect(await callApi(h, 'PUT', '/v1/recipients/me', admin, { display_name: 'x\u0000' })).toEqual({ status: 400, body: expect.objectContaining({ reasons: ['body.display_name: must not contain U+0000'] }) });
    expect((await post({ ...valid('u1'), data: { deep: [{ text: '\u0000' }] } })).status).toBe(400);
  });

  it('a token without exp gets 401 "token has no exp" from the REST API and the WebSocket upgrade', async () => {
    const key = new TextEncoder().encode(h.endpoints.jwtSecret);
    const forever = await new SignJWT({ sub: 'billing-service', roles: ['producer'] }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().sign(key);
    const rest = await post(valid('u1'), forever);
    expect(rest.status).toBe(401);
    expect(await rest.json()).toMatchObject({ error: 'TIDINGS_UNAUTHENTICATED', message: 'token has no exp' });
    expect(await refusedUpgrade(`${h.tidings.wsUrl}?token=${forever}`)).toEqual({ status: 401, body: { error: 'token has no exp' } });
  });

  it('a WebSocket upgrade with a request target that does not parse answers 400 (was an uncaught exception)', async () => {
    const { port } = new URL(h.tidings.url);
    const status = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.write('GET http://[ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => { text += chunk.toString(); });
      socket.on('close', () => resolve(text.split('\r\n')[0] ?? ''));
      socket.on('error', reject);
    });
    expect(status).toBe('HTTP/1.1 400 Bad Request');
  });

  it('with the cap at 3, a 4th socket of a user closes that user\'s oldest with 4008; another user\'s sockets stay open', async () => {
    const [alice, bob] = [`alice-${randomUUID()}`, `bob-${randomUUID()}`];
    const open = async (user: string) => {
      const client = await connectClient(h.tidings.wsUrl, await h.auth.sign({ userId: user, roles: [] }));
      const closed: { code?: number } = {};
      client.socket.on('close', (code) => { closed.code = code; });
      return { ...client, closed };
    };
    const alices = [await open(alice), await open(alice), await open(alice)];
    const bobs = [await open(bob), await open(bob), await open(bob)];
    alices.push(await open(alice));
    expect(await waitFor(() => alices[0]!.closed.code, 'the oldest socket to close')).toBe(4008);
    for (const client of [...alices.slice(1), ...bobs]) {
      client.socket.send(JSON.stringify({ type: 'ping' }));
      await waitFor(() => client.frames.find((f) => f.type === 'pong'), 'a pong on a socket that stays');
      expect(client.socket.readyState).toBe(WebSocket.OPEN);
    }
    for (const client of [...alices, ...bobs]) client.socket.close();
  });
});

/** The status and JSON body with which the gateway refuses an upgrade. */
function refusedUpgrade(url: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once('open', () => reject(new Error('the upgrade was accepted')));
    socket.once('error', () => {}); // follows the refusal
    socket.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => { text += chunk.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
  });
}

/** HTTP ingest and health on a real Tidings, and the gateway's authentication. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startHarness, waitFor, connectClient, type Harness } from './harness.ts';
import { sourceKey } from '../../src/model/notification.ts';
import { stableId } from '../../src/model/ids.ts';

describe('HTTP', () => {
  let h: Harness;
  let producerToken: string;

  beforeAll(async () => {
    h = await startHarness();
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
        'severity: "urgent" is not a valid enum (info, success, warning, error, critical)',
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
});

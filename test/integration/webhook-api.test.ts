/**
 * The webhook endpoint API beyond PUT, on the real stack with the webhook role
 * delivering to a node:http receiver on 127.0.0.2 (`hook.localhost`): URLs
 * refused on save by the addresses they reach (pure checks, nothing connects),
 * format detection, secret rotation with a grace period, enabling a disabled
 * endpoint, statistics and paginated attempts, and rate-limited test
 * deliveries. No answer ever holds a secret but the one shown once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { createCodec } from '../../src/kafka/codec.ts';
import { createSecretBox, webhookSecretContext } from '../../src/secret-box.ts';
import { ENDPOINT_DEFAULTS, type DeliveryCommand, type DeliveryResult, type WebhookEndpoints } from '../../src/model/routing.ts';
import { callApi, readTopic, startHarness, waitFor, type Harness } from './harness.ts';

const GRACE_MS = 3_600_000;

describe('webhook endpoint API', () => {
  let h: Harness;
  let db: pg.Client;
  let receiver: Server;
  let hookUrl: string;
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const alice = `alice-${randomUUID()}`;
  const bob = `bob-${randomUUID()}`;
  let aliceToken: string;
  let bobToken: string;
  const given = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.2', resolve));
    hookUrl = `http://hook.localhost:${(receiver.address() as AddressInfo).port}/in`;
    h = await startHarness({
      TIDINGS_ROLES: 'api,projector,webhook', TIDINGS_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.2/32', TIDINGS_WEBHOOK_SECRET_GRACE_MS: String(GRACE_MS),
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    });
    db = new pg.Client({ connectionString: h.endpoints.databaseUrl });
    await db.connect();
    aliceToken = await h.auth.sign({ userId: alice, roles: [] });
    bobToken = await h.auth.sign({ userId: bob, roles: [] });
    const put = await api('PUT', '/v1/webhooks', aliceToken, { endpoints: [
      { id: 'gen', url: hookUrl, secret: given },
      { id: 'paged', url: 'http://paged.localhost/in' },
      { id: 'chat', url: 'https://chat.localhost/api/webhooks/1/token', format: 'discord' },
    ] });
    expect(put.status).toBe(202);
    await waitFor(async () => ((await stored(alice)).length === 3 ? true : undefined), 'alice\'s endpoints projected');
  });
  afterAll(async () => {
    await db?.end();
    await h?.stop();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  const api = (method: string, path: string, token: string, body?: unknown) => callApi(h, method, path, token, body);
  const box = () => createSecretBox(h.endpoints.secretKey);
  const stored = async (userId: string) => (await db.query<{
    endpoint_id: string; secret_encrypted: string | null; previous_secret_encrypted: string | null; previous_secret_expires_at: Date | null;
    enabled: boolean; disabled_reason: string | null; headers: Record<string, string>;
  }>('select * from user_webhooks where user_id = $1 order by endpoint_id', [userId])).rows;
  const storedOne = async (userId: string, id: string) => (await stored(userId)).find((r) => r.endpoint_id === id);
  const expectNoSecret = (answer: unknown) => {
    const text = JSON.stringify(answer);
    expect(text).not.toContain('whsec_');
    expect(text).not.toContain('secret_encrypted');
    expect(text).not.toMatch(/v1\.[A-Za-z0-9_-]{16}\./); // a sealed secret
  };

  it('refuses on save URLs whose host is, or resolves to, a refused address, and names that do not resolve', async () => {
    const bad = await api('PUT', '/v1/webhooks', bobToken, { endpoints: [
      { id: 'a', url: 'http://localhost/' },
      { id: 'b', url: 'http://127.0.0.1/' },
      { id: 'c', url: 'http://10.0.0.1/' },
      { id: 'd', url: 'http://169.254.169.254/latest' },
      { id: 'e', url: 'http://[::ffff:10.0.0.1]/' },
      { id: 'f', url: 'https://nowhere.invalid/hook' },
      { id: 'ok', url: 'http://bob.localhost/hook' },
    ] });
    expect(bad.status).toBe(400);
    expect(bad.body.reasons).toEqual([
      'endpoints[0].url: localhost resolves to 127.0.0.1: 127.0.0.1 is a loopback address',
      'endpoints[1].url: 127.0.0.1: 127.0.0.1 is a loopback address',
      'endpoints[2].url: 10.0.0.1: 10.0.0.1 is a private address',
      'endpoints[3].url: 169.254.169.254: 169.254.169.254 is a cloud metadata endpoint (AWS, GCP, Azure, OCI)',
      expect.stringMatching(/^endpoints\[4\]\.url: .*carries 10\.0\.0\.1 \(IPv4-mapped\): 10\.0\.0\.1 is a private address$/),
      'endpoints[5].url: nowhere.invalid does not resolve (ENOTFOUND)',
    ]);
    // Checked with the other rules, all reasons at once.
    const mixed = await api('PUT', '/v1/webhooks', bobToken, { endpoints: [{ id: 'a', url: 'ftp://bob.localhost/' }, { id: 'a', url: 'http://10.0.0.1/' }] });
    expect(mixed.body.reasons).toEqual(['endpoints[0].url: must be http or https, not ftp:', 'endpoints[1].id: "a" appears twice', 'endpoints[1].url: 10.0.0.1: 10.0.0.1 is a private address']);
    expect(await stored(bob)).toEqual([]);
  });

  it('detects the format from the URL when it is left out', async () => {
    // hooks.slack.com is detected as Slack (which takes no secret) before its address is looked at; it does not resolve here.
    const slack = await api('PUT', '/v1/webhooks', bobToken, { endpoints: [{ id: 's', url: 'https://hooks.slack.com/services/T/B/X', secret: given }] });
    expect(slack.status).toBe(400);
    expect(slack.body.reasons).toEqual([
      'endpoints[0].secret: only generic endpoints are signed; slack carries its credential in the URL',
      'endpoints[0].url: hooks.slack.com does not resolve (ENOTFOUND)',
    ]);
    const generic = await api('PUT', '/v1/webhooks', bobToken, { endpoints: [{ id: 'g', url: 'http://bob.localhost/hook' }, { id: 'lit', url: 'http://127.0.0.2:9/x' }] });
    expect(generic.status).toBe(202);
    expect(generic.body.endpoints.map((e: { format: string; signed: boolean }) => [e.format, e.signed])).toEqual([['generic', true], ['generic', true]]);
  });

  it('rotates a generic endpoint\'s secret, keeping the previous one until now + grace, and signs deliveries with both', async () => {
    const before = (await storedOne(alice, 'gen'))!;
    const asked = Date.now();
    const rotated = await api('POST', '/v1/webhooks/gen/rotate-secret', aliceToken);
    expect(rotated.status).toBe(202);
    const secret = rotated.body.secret as string;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(secret).not.toBe(given);
    const after = await waitFor(async () => {
      const row = await storedOne(alice, 'gen');
      return row?.secret_encrypted !== before.secret_encrypted ? row : undefined;
    }, 'the rotation projected');
    const context = webhookSecretContext(alice, 'gen');
    expect(box().open(after.secret_encrypted!, context)).toBe(secret);
    expect(after.previous_secret_encrypted).toBe(before.secret_encrypted);
    expect(box().open(after.previous_secret_encrypted!, context)).toBe(given);
    const expires = after.previous_secret_expires_at!.getTime();
    expect(expires).toBeGreaterThanOrEqual(asked + GRACE_MS);
    expect(expires).toBeLessThanOrEqual(Date.now() + GRACE_MS);
    expect(new Date(rotated.body.previous_secret_expires_at as string).getTime()).toBe(expires);
    // The rest of the set is published with it, unchanged.
    expect((await stored(alice)).map((r) => r.endpoint_id)).toEqual(['chat', 'gen', 'paged']);

    const codec = createCodec(h.endpoints.schemaRegistryUrl);
    const sets = (await readTopic(h.endpoints.kafkaBrokers, h.tidings.topics.webhooks, async (v) => (await codec.decode('WebhookEndpoints', v)) as WebhookEndpoints))
      .filter((r) => r.key === alice);
    expect(JSON.stringify(sets)).not.toContain(secret.slice(6));

    // A test delivery now verifies with the new secret and with the old one.
    const tested = await api('POST', '/v1/webhooks/gen/test', aliceToken);
    expect(tested.status).toBe(202);
    const attempt = await waitFor(async () => (await api('GET', '/v1/webhooks/gen/attempts', aliceToken)).body.attempts[0], 'the test delivery attempted');
    expect(attempt).toMatchObject({ delivery_id: tested.body.delivery_id, attempt: 1, outcome: 'sent', status: 200, error: null });
    const delivery = received.find((r) => r.headers['webhook-id'] === tested.body.delivery_id)!;
    const headers = Object.fromEntries(Object.entries(delivery.headers).map(([k, v]) => [k, String(v)]));
    expect(new Webhook(secret).verify(delivery.body, headers)).toMatchObject({ type: 'system_test' });
    expect(() => new Webhook(given).verify(delivery.body, headers)).not.toThrow();

    const discord = await api('POST', '/v1/webhooks/chat/rotate-secret', aliceToken);
    expect(discord.status).toBe(400);
    expect(discord.body.reasons).toEqual(['chat: only generic endpoints are signed; discord carries its credential in the URL']);
    expect((await api('POST', '/v1/webhooks/nope/rotate-secret', aliceToken)).status).toBe(404);
    expect((await api('POST', '/v1/webhooks/gen/rotate-secret', bobToken)).status).toBe(404);
  });

  it('enables an endpoint Tidings disabled, clearing the reason', async () => {
    const carol = `carol-${randomUUID()}`;
    const carolToken = await h.auth.sign({ userId: carol, roles: [] });
    // As the webhook processor disables an endpoint: the whole set, that one off with its reason.
    const sealed = box().seal(given, webhookSecretContext(carol, 'gone'));
    const set: WebhookEndpoints = { user_id: carol, updated_at: Date.now(), endpoints: [
      { ...ENDPOINT_DEFAULTS, id: 'gone', url: 'http://gone.localhost/in', format: 'generic', secret_encrypted: sealed, enabled: false, types: [], disabled_reason: 'the endpoint answered 410 Gone' },
      { ...ENDPOINT_DEFAULTS, id: 'other', url: 'http://other.localhost/in', format: 'generic', secret_encrypted: null, enabled: true, types: ['job_failed'] },
    ] };
    await h.tidings.publisher.publish(h.tidings.topics.webhooks, carol, set);
    const disabled = await waitFor(async () => {
      const listed = await api('GET', '/v1/webhooks', carolToken);
      return listed.body.endpoints.length === 2 ? listed.body.endpoints : undefined;
    }, 'carol\'s endpoints projected');
    expect(disabled[0]).toMatchObject({ id: 'gone', enabled: false, disabled_reason: 'the endpoint answered 410 Gone' });
    const test = await api('POST', '/v1/webhooks/gone/test', carolToken);
    expect(test.status).toBe(400);

    const enabled = await api('POST', '/v1/webhooks/gone/enable', carolToken);
    expect(enabled.status).toBe(202);
    await waitFor(async () => ((await storedOne(carol, 'gone'))?.enabled ? true : undefined), 'the endpoint enabled');
    const listed = (await api('GET', '/v1/webhooks', carolToken)).body.endpoints;
    expect(listed[0]).toMatchObject({ id: 'gone', enabled: true, disabled_reason: null, signed: true });
    expect(listed[1]).toMatchObject({ id: 'other', enabled: true, types: ['job_failed'], signed: false });
    expect((await storedOne(carol, 'gone'))?.secret_encrypted).toBe(sealed);
    expect((await api('POST', '/v1/webhooks/nope/enable', carolToken)).status).toBe(404);
    expect((await api('POST', '/v1/webhooks/gone/enable', aliceToken)).status).toBe(404);
  });

  it('lists an endpoint\'s attempts newest first, page by page, and shows its statistics', async () => {
    // 12 deliveries of 2 attempts each; two deliveries share a time, so the delivery id and the attempt break ties.
    const base = Date.UTC(2026, 0, 1);
    const results: DeliveryResult[] = [];
    for (let d = 0; d < 12; d++) {
      const deliveryId = randomUUID();
      for (const attempt of [1, 2]) {
        results.push({
          delivery_id: deliveryId, notification_id: randomUUID(), user_id: alice, channel: 'webhook', endpoint_id: 'paged', attempt,
          outcome: attempt === 1 ? 'retrying' : d === 11 ? 'failed' : 'sent', status: attempt === 1 ? 503 : d === 11 ? 500 : 200,
          error: attempt === 1 ? 'answered 503' : d === 11 ? 'answered 500' : null, latency_ms: 12, next_attempt_at: attempt === 1 ? base + 1_000 : null,
          at: base + Math.min(d, 10) * 60_000 + (attempt - 1) * 1_000,
        });
      }
    }
    // Another endpoint's and another user's attempts are not listed.
    results.push({ ...results[0]!, delivery_id: randomUUID(), endpoint_id: 'chat' }, { ...results[0]!, delivery_id: randomUUID(), user_id: bob });
    for (const r of results) await h.tidings.publisher.publish(h.tidings.topics.deliveryResults, r.user_id, r);
    await waitFor(async () => {
      const { rows } = await db.query<{ n: number }>('select count(*)::int as n from delivery_attempts where user_id = $1 and endpoint_id = $2', [alice, 'paged']);
      return rows[0]!.n === 24 ? true : undefined;
    }, 'the attempts projected');

    const expected = results.filter((r) => r.user_id === alice && r.endpoint_id === 'paged')
      .sort((a, b) => b.at - a.at || (a.delivery_id < b.delivery_id ? 1 : a.delivery_id > b.delivery_id ? -1 : 0) || b.attempt - a.attempt)
      .map((r) => `${r.delivery_id}/${r.attempt}`);
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const page = await api('GET', `/v1/webhooks/paged/attempts?limit=10${cursor ? `&cursor=${cursor}` : ''}`, aliceToken);
      expect(page.status).toBe(200);
      sizes.push(page.body.attempts.length);
      seen.push(...page.body.attempts.map((a: { delivery_id: string; attempt: number }) => `${a.delivery_id}/${a.attempt}`));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(sizes).toEqual([10, 10, 4]);
    expect(seen).toEqual(expected);

    const newest = results.find((r) => `${r.delivery_id}/${r.attempt}` === expected[0])!;
    const first = (await api('GET', '/v1/webhooks/paged/attempts?limit=1', aliceToken)).body.attempts[0];
    expect(first).toEqual({
      delivery_id: newest.delivery_id, attempt: 2, notification_id: newest.notification_id, outcome: newest.outcome, status: newest.status,
      error: newest.error, latency_ms: 12, next_attempt_at: null, at: new Date(base + 10 * 60_000 + 1_000).toISOString(),
    });
    const retrying = (await api('GET', '/v1/webhooks/paged/attempts?limit=100', aliceToken)).body.attempts.find((a: { attempt: number }) => a.attempt === 1);
    expect(retrying).toMatchObject({ outcome: 'retrying', status: 503, next_attempt_at: new Date(base + 1_000).toISOString() });
    expect((await api('GET', '/v1/webhooks/paged/attempts?cursor=bm90LWEtY3Vyc29y', aliceToken)).status).toBe(400);
    expect((await api('GET', '/v1/webhooks/paged/attempts', bobToken)).status).toBe(404);
    expect((await api('GET', '/v1/webhooks/nope/attempts', aliceToken)).status).toBe(404);

    const listed = await api('GET', '/v1/webhooks', aliceToken);
    expectNoSecret(listed.body);
    const paged = listed.body.endpoints.find((e: { id: string }) => e.id === 'paged');
    expect(paged).toEqual({
      id: 'paged', url: 'http://paged.localhost/in', format: 'generic', enabled: true, disabled_reason: null, types: [], headers: {},
      timeout_ms: 30_000, signed: true, total_sent: 11, total_failed: 13,
      last_triggered_at: new Date(base + 10 * 60_000 + 1_000).toISOString(), last_success_at: new Date(base + 10 * 60_000 + 1_000).toISOString(),
      last_error: 'answered 500',
    });
    expect(listed.body.endpoints.find((e: { id: string }) => e.id === 'chat')).toMatchObject({ total_sent: 0, total_failed: 1, last_success_at: null });
  });

  it('publishes a test delivery for one endpoint, at most five a minute per user (429 with Retry-After)', async () => {
    const dave = `dave-${randomUUID()}`;
    const daveToken = await h.auth.sign({ userId: dave, roles: [] });
    const put = await api('PUT', '/v1/webhooks', daveToken, { endpoints: [{ id: 'd1', url: hookUrl, headers: { 'x-team': 'ops' }, timeout_ms: 5_000 }] });
    expect(put.status).toBe(202);
    expectNoSecret({ ...put.body, secrets: undefined });
    await waitFor(async () => ((await stored(dave)).length === 1 ? true : undefined), 'dave\'s endpoint projected');
    const row = (await storedOne(dave, 'd1'))!;

    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const answer = await api('POST', '/v1/webhooks/d1/test', daveToken);
      expect(answer.status).toBe(202);
      expect(Object.keys(answer.body)).toEqual(['delivery_id']);
      ids.push(answer.body.delivery_id as string);
    }
    const limited = await fetch(`${h.tidings.url}/v1/webhooks/d1/test`, { method: 'POST', headers: { authorization: `Bearer ${daveToken}` } });
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await limited.json()).toMatchObject({ error: 'TIDINGS_RATE_LIMITED' });
    // Per user: another user is not held back by dave's tests.
    const eve = await h.auth.sign({ userId: `eve-${randomUUID()}`, roles: [] });
    expect((await api('POST', '/v1/webhooks/d1/test', eve)).status).toBe(404);

    const codec = createCodec(h.endpoints.schemaRegistryUrl);
    const commands = (await readTopic(h.endpoints.kafkaBrokers, h.tidings.topics.deliveryWebhook, async (v) => (await codec.decode('DeliveryCommand', v)) as DeliveryCommand))
      .filter((r) => r.key === dave).map((r) => r.value!);
    expect(commands.map((c) => c.delivery_id).sort()).toEqual([...ids].sort());
    const command = commands.find((c) => c.delivery_id === ids[0])!;
    expect(command).toMatchObject({
      channel: 'webhook', user_id: dave, email: null, attempt: 1,
      webhook: {
        endpoint_id: 'd1', url: hookUrl, format: 'generic', secret_encrypted: row.secret_encrypted, global: false, headers: { 'x-team': row.headers['x-team'] },
        timeout_ms: 5_000, previous_secret_encrypted: null, previous_secret_expires_at: null,
      },
      notification: { user_id: dave, type: 'system_test', category: 'system', severity: 'info', event_id: null, action_url: null },
    });
    expect(command.notification.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(commands.map((c) => c.notification.id)).size).toBe(5);

    // Delivered by the webhook role, and listed as the endpoint's attempts.
    const attempts = await waitFor(async () => {
      const page = await api('GET', '/v1/webhooks/d1/attempts', daveToken);
      return page.body.attempts.length === 5 ? page.body.attempts as { delivery_id: string; outcome: string; status: number }[] : undefined;
    }, 'the five test deliveries attempted');
    expect(attempts.map((a) => a.delivery_id).sort()).toEqual([...ids].sort());
    expect(attempts.every((a) => a.outcome === 'sent' && a.status === 200)).toBe(true);
    const at = received.find((r) => r.headers['webhook-id'] === ids[0])!;
    expect(at.headers['x-team']).toBe('ops');
    expect(JSON.parse(at.body)).toMatchObject({ type: 'system_test' });
  });

  it('seals custom header values at rest and never shows them; null keeps a stored value', async () => {
    const fay = `fay-${randomUUID()}`;
    const token = await h.auth.sign({ userId: fay, roles: [] });
    const put = await api('PUT', '/v1/webhooks', token, { endpoints: [{ id: 'f1', url: hookUrl, headers: { Authorization: 'Bearer fay-credential', 'x-team': 'ops' } }] });
    expect(put.status).toBe(202);
    expect(put.body.endpoints[0].headers).toEqual({ Authorization: null, 'x-team': null });
    const row = await waitFor(async () => storedOne(fay, 'f1'), 'fay\'s endpoint projected');
    expect(Object.keys(row.headers).sort()).toEqual(['Authorization', 'x-team']);
    for (const value of Object.values(row.headers)) expect(value).toMatch(/^sealed:v1\./);
    const codec = createCodec(h.endpoints.schemaRegistryUrl);
    const sets = (await readTopic(h.endpoints.kafkaBrokers, h.tidings.topics.webhooks, async (v) => (v ? JSON.stringify(await codec.decode('WebhookEndpoints', v)) : null)))
      .filter((r) => r.key === fay).map((r) => r.value!);
    expect(sets).toHaveLength(1);
    expect(sets[0]).not.toContain('fay-credential');
    expect(sets[0]).not.toContain('ops');
    const listed = await api('GET', '/v1/webhooks', token);
    expect(JSON.stringify(listed.body)).not.toContain('fay-credential');
    expect(listed.body.endpoints[0].headers).toEqual({ Authorization: null, 'x-team': null });

    // null keeps the stored value (any case of the name); a new value is sealed; null without a stored value is refused.
    const kept = await api('PUT', '/v1/webhooks', token, { endpoints: [{ id: 'f1', url: hookUrl, headers: { authorization: null, 'x-env': 'prod' } }] });
    expect(kept.status).toBe(202);
    expect(kept.body.endpoints[0].headers).toEqual({ Authorization: null, 'x-env': null });
    const after = await waitFor(async () => {
      const r = await storedOne(fay, 'f1');
      return r && 'x-env' in r.headers ? r : undefined;
    }, 'the kept header projected');
    expect(after.headers.Authorization).toBe(row.headers.Authorization);
    expect(after.headers['x-team']).toBeUndefined();
    const refused = await api('PUT', '/v1/webhooks', token, { endpoints: [{ id: 'f1', url: hookUrl, headers: { 'x-missing': null } }] });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('endpoints[0].headers.x-missing: null keeps the stored value');

    // Sent as set: the test delivery carries the opened values.
    const tested = await api('POST', '/v1/webhooks/f1/test', token);
    expect(tested.status).toBe(202);
    const got = await waitFor(() => received.find((r) => r.headers['webhook-id'] === tested.body.delivery_id), 'fay\'s test delivery');
    expect(got.headers.authorization).toBe('Bearer fay-credential');
    expect(got.headers['x-env']).toBe('prod');
  });
});

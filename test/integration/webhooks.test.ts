/**
 * Webhook endpoints through the API on the real stack: secrets generated or
 * given, sealed before they reach Kafka and Postgres, kept across edits, never
 * shown again; the router's delivery commands carry the sealed secret; and a
 * user only ever sees their own endpoints.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createCodec } from '../../src/kafka/codec.ts';
import { createSecretBox, webhookSecretContext } from '../../src/secret-box.ts';
import type { DeliveryCommand, WebhookEndpoints } from '../../src/model/routing.ts';
import { startHarness, readTopic, waitFor, waitForConsumed, waitUntilProcessed, type Harness, callApi } from './harness.ts';

describe('webhook endpoints API', () => {
  let h: Harness;
  let db: pg.Client;
  const alice = `alice-${randomUUID()}`;
  const bob = `bob-${randomUUID()}`;
  let aliceToken: string;
  let bobToken: string;

  beforeAll(async () => {
    // <x>.localhost resolves to 127.0.0.2 (loopbackResolver), which only this allow-list lets endpoints reach.
    h = await startHarness({ TIDINGS_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.2/32' });
    db = new pg.Client({ connectionString: h.endpoints.databaseUrl });
    await db.connect();
    aliceToken = await h.auth.sign({ userId: alice, roles: [] });
    bobToken = await h.auth.sign({ userId: bob, roles: [] });
  });
  afterAll(async () => {
    await db?.end();
    await h?.stop();
  });

  const api = (method: string, path: string, token: string, body?: unknown) => callApi(h, method, path, token, body);
  const sealedSecrets = async (userId: string) => new Map((await db.query<{ endpoint_id: string; secret_encrypted: string | null }>(
    'select endpoint_id, secret_encrypted from user_webhooks where user_id = $1', [userId])).rows.map((r) => [r.endpoint_id, r.secret_encrypted]));
  const projected = async (userId: string, token: string, count: number) =>
    waitFor(async () => {
      const listed = await api('GET', '/v1/webhooks', token);
      return listed.body.endpoints.length === count ? listed.body.endpoints as Record<string, unknown>[] : undefined;
    }, `${count} endpoints of ${userId}`);

  it('seals generated and given secrets before they reach Kafka and Postgres, and shows a generated one once', async () => {
    const given = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const put = await api('PUT', '/v1/webhooks', aliceToken, { endpoints: [
      { id: 'ops', url: 'https://alice.localhost/hooks', types: ['job_failed'] },
      { id: 'own', url: 'https://alice.localhost/own', secret: given },
      { id: 'chat', url: 'https://discord.localhost/api/webhooks/1/token', format: 'discord' },
    ] });
    expect(put.status).toBe(202);
    expect(Object.keys(put.body.secrets)).toEqual(['ops']);
    const generated = put.body.secrets.ops as string;
    expect(generated).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(put.body.endpoints).toEqual([
      { id: 'ops', url: 'https://alice.localhost/hooks', format: 'generic', enabled: true, disabled_reason: null, types: ['job_failed'], headers: {}, timeout_ms: 30_000, signed: true },
      { id: 'own', url: 'https://alice.localhost/own', format: 'generic', enabled: true, disabled_reason: null, types: [], headers: {}, timeout_ms: 30_000, signed: true },
      { id: 'chat', url: 'https://discord.localhost/api/webhooks/1/token', format: 'discord', enabled: true, disabled_reason: null, types: [], headers: {}, timeout_ms: 30_000, signed: false },
    ]);

    const listed = await projected(alice, aliceToken, 3);
    expect(JSON.stringify(listed)).not.toContain('whsec_');
    expect(listed.map((e) => [e.id, e.signed])).toEqual([['chat', false], ['ops', true], ['own', true]]);

    const box = createSecretBox(h.endpoints.secretKey);
    const stored = await sealedSecrets(alice);
    expect(stored.get('chat')).toBeNull();
    for (const [id, plain] of [['ops', generated], ['own', given]] as const) {
      const sealed = stored.get(id)!;
      expect(sealed).not.toContain(plain.slice(6));
      expect(box.open(sealed, webhookSecretContext(alice, id))).toBe(plain);
      // Bound to its endpoint: the same ciphertext does not open for another.
      expect(() => box.open(sealed, webhookSecretContext(bob, id))).toThrow(/does not open/);
    }

    const codec = createCodec(h.endpoints.schemaRegistryUrl);
    const onTopic = (await readTopic(h.endpoints.kafkaBrokers, h.tidings.topics.webhooks, async (v) => (await codec.decode('WebhookEndpoints', v)) as WebhookEndpoints))
      .filter((r) => r.key === alice);
    expect(onTopic).toHaveLength(1);
    expect(JSON.stringify(onTopic)).not.toContain(generated.slice(6));
    expect(JSON.stringify(onTopic)).not.toContain(given.slice(6));
  });

  it('keeps a secret across edits, rotates it when a new one is given, and routes with the sealed secret', async () => {
    const before = await sealedSecrets(alice);
    const edit = await api('PUT', '/v1/webhooks', aliceToken, { endpoints: [
      { id: 'ops', url: 'https://alice.localhost/hooks-v2', types: ['job_failed'] },
      { id: 'own', url: 'https://alice.localhost/own', secret: 'whsec_c2Vjb25kIHNlY3JldCBvZiAzMiBieXRlcyEh' },
    ] });
    expect(edit.status).toBe(202);
    expect(edit.body.secrets).toEqual({});
    await projected(alice, aliceToken, 2);
    const after = await sealedSecrets(alice);
    expect(after.get('ops')).toBe(before.get('ops'));
    expect(after.get('own')).not.toBe(before.get('own'));
    expect(createSecretBox(h.endpoints.secretKey).open(after.get('own')!, webhookSecretContext(alice, 'own'))).toBe('whsec_c2Vjb25kIHNlY3JldCBvZiAzMiBieXRlcyEh');

    await waitForConsumed(h, 'router', h.tidings.topics.webhooks);
    const producer = await h.auth.sign({ userId: 'svc', roles: ['producer'] });
    const sourceId = randomUUID();
    const posted = await api('POST', '/v1/events', producer, { user_id: alice, type: 'job_failed', title: 'Job failed', message: 'exit 1', source_type: 'job', source_id: sourceId });
    expect(posted.status).toBe(202);
    await waitUntilProcessed(h);
    await waitForConsumed(h, 'router', h.tidings.topics.accepted);
    const codec = createCodec(h.endpoints.schemaRegistryUrl);
    const commands = (await readTopic(h.endpoints.kafkaBrokers, h.tidings.topics.deliveryWebhook, async (v) => (await codec.decode('DeliveryCommand', v)) as DeliveryCommand))
      .map((r) => r.value!).filter((c) => c.notification.source_id === sourceId);
    expect(commands.map((c) => [c.webhook?.endpoint_id, c.webhook?.url, c.webhook?.secret_encrypted]).sort()).toEqual([
      ['ops', 'https://alice.localhost/hooks-v2', after.get('ops')],
      ['own', 'https://alice.localhost/own', after.get('own')],
    ]);
  });

  it('answers 400 with every reason for a bad set, and shows users only their own endpoints', async () => {
    const bad = await api('PUT', '/v1/webhooks', bobToken, { endpoints: [
      { id: 'a', url: 'ftp://bob.localhost/x' },
      { id: 'a', url: 'https://user:pw@bob.localhost/' },
      { id: 'b', url: 'not a url' },
      { id: 'c', url: 'https://slack.localhost/T/B/X', format: 'slack', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
    ] });
    expect(bad.status).toBe(400);
    expect(bad.body.reasons).toEqual([
      'endpoints[0].url: must be http or https, not ftp:',
      'endpoints[1].id: "a" appears twice',
      'endpoints[1].url: must not carry credentials; generic endpoints are signed instead',
      'endpoints[2].url: not a URL',
      'endpoints[3].secret: only generic endpoints are signed; slack carries its credential in the URL',
    ]);
    const weak = await api('PUT', '/v1/webhooks', bobToken, { endpoints: [{ id: 'a', url: 'https://bob.localhost/', secret: 'whsec_short' }] });
    expect(weak.status).toBe(400);
    expect(JSON.stringify(weak.body)).toContain('secret');

    expect((await api('GET', '/v1/webhooks', bobToken)).body.endpoints).toEqual([]);
    expect(await sealedSecrets(bob)).toEqual(new Map());
    expect((await api('GET', '/v1/webhooks', aliceToken)).body.endpoints).toHaveLength(2);
  });
});

/**
 * Webhook delivery on the real stack, to real HTTP receivers on loopback:
 * each format's body, Standard Webhooks signatures checked with the official
 * `standardwebhooks` package, retries through the retry topics with the same
 * webhook-id, Retry-After, 410 disabling the endpoint, a dead endpoint not
 * holding back a healthy one, the DLQ after the last attempt, and the
 * connection-time address guard (127.0.0.2 allowed, 127.0.0.1 refused).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { createCodec } from '../../src/kafka/codec.ts';
import { createSecretBox, webhookSecretContext } from '../../src/secret-box.ts';
import { ENDPOINT_DEFAULTS, type DeliveryResult, type WebhookEndpoint } from '../../src/model/routing.ts';
import { generateSecret } from '../../src/api/webhooks.ts';
import { callApi, readTopic, startHarness, waitFor, waitForConsumed, waitUntilProcessed, type Harness } from './harness.ts';
import { startReceiver, type Receiver } from './receivers.ts';

describe('webhook delivery', () => {
  let h: Harness;
  let allowed: Receiver; // on 127.0.0.2, which the tests allow
  let refused: Receiver; // on 127.0.0.1, which stays refused
  let db: pg.Client;
  let producer: string;
  const globalSecret = generateSecret();
  const codec = () => createCodec(h.endpoints.schemaRegistryUrl);

  beforeAll(async () => {
    allowed = await startReceiver('127.0.0.2');
    refused = await startReceiver('127.0.0.1');
    h = await startHarness({
      TIDINGS_ROLES: 'ingest,api,dedupe,router,projector,webhook',
      TIDINGS_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.2/32',
      TIDINGS_WEBHOOK_RETRY_SCHEDULE: '100ms,200ms,400ms',
      TIDINGS_WEBHOOK_TIMEOUT_MS: '1500',
      TIDINGS_WEBHOOK_INLINE_TIMEOUT_MS: '1500',
      TIDINGS_WEBHOOK_RETRY_AFTER_MAX_MS: '3000',
      TIDINGS_WEBHOOK_CIRCUIT_OPEN_MS: '60000',
      TIDINGS_GLOBAL_WEBHOOK_URL: `${allowed.url}/global`,
      TIDINGS_GLOBAL_WEBHOOK_SECRET: globalSecret,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    });
    db = new pg.Client({ connectionString: h.endpoints.databaseUrl });
    await db.connect();
    producer = await h.auth.sign({ userId: 'producer', roles: ['producer'] });
  });
  afterAll(async () => {
    await db?.end();
    await h?.stop();
    await allowed?.close();
    await refused?.close();
  });

  const secrets = () => createSecretBox(h.endpoints.secretKey);
  /** Publishes `user`'s endpoint set straight to notification.webhooks (no save-time check) and waits until router and projector have it. */
  const endpoints = async (user: string, list: (Partial<WebhookEndpoint> & { id: string; url: string; secret?: string })[]) => {
    const value = {
      user_id: user, updated_at: Date.now(),
      endpoints: list.map(({ secret, ...e }) => ({
        ...ENDPOINT_DEFAULTS, format: 'generic' as const, enabled: true, types: [], ...e,
        secret_encrypted: secret ? secrets().seal(secret, webhookSecretContext(user, e.id)) : null,
      })),
    };
    await h.tidings.publisher.publish(h.tidings.topics.webhooks, user, value);
    await waitForConsumed(h, 'router', h.tidings.topics.webhooks);
    await waitUntilProcessed(h);
  };
  const post = async (user: string, type = 'job_failed') => {
    const sourceId = randomUUID();
    const posted = await callApi(h, 'POST', '/v1/events', producer, { user_id: user, type, title: 'Job failed', message: 'exit 1', source_type: 'job', source_id: sourceId });
    expect(posted.status).toBe(202);
    return { sourceId, at: Date.now() };
  };
  const results = async (user: string) => (await readTopic(h.endpoints.kafkaBrokers, h.tidings.topics.deliveryResults, (v) => codec().decode('DeliveryResult', v)))
    .map((r) => r.value).filter((r): r is DeliveryResult => r !== null && r.user_id === user);
  const requestsFor = (path: string, count: number, timeoutMs = 20_000) =>
    waitFor(() => (allowed.at(path).length >= count ? allowed.at(path) : undefined), `${count} request(s) to ${path}`, timeoutMs);
  const verify = (secret: string, r: { body: string; headers: Record<string, string> }) => new Webhook(secret).verify(r.body, r.headers);

  it('delivers the Standard Webhooks envelope, signed with the endpoint\'s secret, with its headers; the global webhook is signed with its own', async () => {
    const user = `u-${randomUUID()}`;
    const secret = generateSecret();
    await endpoints(user, [{ id: 'main', url: `${allowed.url}/generic-${user}`, secret, headers: { 'x-team': 'ops' } }]);
    const { sourceId } = await post(user);
    const [got] = await requestsFor(`/generic-${user}`, 1);
    expect(got!.headers['content-type']).toBe('application/json');
    expect(got!.headers['x-team']).toBe('ops');
    expect(verify(secret, got!)).toMatchObject({ type: 'job_failed', data: { user_id: user, title: 'Job failed', source: { type: 'job', id: sourceId } } });
    expect(() => verify(generateSecret(), got!)).toThrow();
    const global = await waitFor(() => allowed.at('/global').find((r) => r.body.includes(sourceId)), 'the global webhook\'s copy');
    expect(verify(globalSecret, global)).toMatchObject({ data: { user_id: user } });
    expect(global.headers['webhook-id']).not.toBe(got!.headers['webhook-id']);
  });

  it('renders Discord, Slack and Teams bodies for endpoints of those formats', async () => {
    const user = `u-${randomUUID()}`;
    await endpoints(user, [
      { id: 'd', url: `${allowed.url}/discord-${user}`, format: 'discord' },
      { id: 's', url: `${allowed.url}/slack-${user}`, format: 'slack' },
      { id: 't', url: `${allowed.url}/teams-${user}`, format: 'teams' },
    ]);
    await post(user);
    const [discord] = await requestsFor(`/discord-${user}`, 1);
    const [slack] = await requestsFor(`/slack-${user}`, 1);
    const [teams] = await requestsFor(`/teams-${user}`, 1);
    expect(JSON.parse(discord!.body)).toMatchObject({ embeds: [{ title: 'Job failed', description: 'exit 1' }] });
    expect(JSON.parse(slack!.body)).toMatchObject({ text: expect.stringContaining('Job failed'), blocks: expect.arrayContaining([expect.objectContaining({ type: 'header' })]) });
    expect(JSON.parse(teams!.body)).toMatchObject({ type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive' }] });
    expect(discord!.headers['webhook-signature']).toBeUndefined(); // their credential is the URL
  });

  it('retries a 500 through the retry topic with the same webhook-id, and projects both attempts', async () => {
    const user = `u-${randomUUID()}`;
    const secret = generateSecret();
    const path = `/flaky-${user}`;
    allowed.answer(path, { status: 500 }, { status: 200 });
    await endpoints(user, [{ id: 'flaky', url: `${allowed.url}${path}`, secret }]);
    await post(user);
    const [first, second] = await requestsFor(path, 2);
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    verify(secret, first!);
    verify(secret, second!);
    const mine = await waitFor(async () => {
      const r = (await results(user)).filter((x) => x.endpoint_id === 'flaky');
      return r.length >= 2 ? r : undefined;
    }, 'two results');
    expect(mine.map((r) => [r.attempt, r.outcome, r.status])).toEqual([[1, 'retrying', 500], [2, 'sent', 200]]);
    expect(mine[0]!.delivery_id).toBe(first!.headers['webhook-id']);
    const rows = await waitFor(async () => {
      const { rows } = await db.query<{ attempt: number; outcome: string }>('select attempt, outcome from delivery_attempts where delivery_id = $1 order by attempt', [mine[0]!.delivery_id]);
      return rows.length === 2 ? rows : undefined;
    }, 'the projected attempts');
    expect(rows).toEqual([{ attempt: 1, outcome: 'retrying' }, { attempt: 2, outcome: 'sent' }]);
    const stats = await waitFor(async () => (await db.query('select total_sent::int, total_failed::int, failing_since from webhook_endpoint_stats where user_id = $1', [user])).rows[0], 'the endpoint stats');
    expect(stats).toEqual({ total_sent: 1, total_failed: 1, failing_since: null });
    const delivery = await waitFor(async () => (await db.query<{ delivery: Record<string, { outcome: string }> }>('select delivery from notifications where user_id = $1', [user])).rows[0]?.delivery['webhook:flaky'], 'the notification\'s webhook status');
    expect(delivery.outcome).toBe('sent');
  });

  it('waits as long as a 503\'s Retry-After asks, when that is longer than the schedule', async () => {
    const user = `u-${randomUUID()}`;
    const path = `/busy-${user}`;
    allowed.answer(path, { status: 503, headers: { 'retry-after': '1' } }, { status: 200 });
    await endpoints(user, [{ id: 'busy', url: `${allowed.url}${path}` }]);
    await post(user);
    const [first, second] = await requestsFor(path, 2);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
  });

  it('disables an endpoint that answers 410 Gone, tells its owner, and sends it nothing more', async () => {
    const user = `u-${randomUUID()}`;
    const path = `/gone-${user}`;
    allowed.answer(path, { status: 410 });
    await endpoints(user, [{ id: 'gone', url: `${allowed.url}${path}` }, { id: 'fine', url: `${allowed.url}/fine-${user}` }]);
    await post(user);
    await requestsFor(path, 1);
    const row = await waitFor(async () => (await db.query<{ enabled: boolean; disabled_reason: string | null }>(
      'select enabled, disabled_reason from user_webhooks where user_id = $1 and endpoint_id = $2 and not enabled', [user, 'gone'])).rows[0], 'the endpoint disabled');
    expect(row.disabled_reason).toContain('410');
    const told = await waitFor(async () => (await db.query<{ title: string }>('select title from notifications where user_id = $1 and type = $2', [user, 'webhook_failure'])).rows[0], 'the webhook_failure notification');
    expect(told.title).toContain('gone');
    const dead = await waitFor(async () => (await results(user)).find((r) => r.endpoint_id === 'gone'), 'the 410 result');
    expect(dead).toMatchObject({ outcome: 'failed', status: 410 });
    await waitForConsumed(h, 'router', h.tidings.topics.webhooks);
    await post(user);
    await requestsFor(`/fine-${user}`, 2);
    expect(allowed.at(path)).toHaveLength(1);
  });

  it('does not let an endpoint that never answers hold back a healthy one', async () => {
    const user = `u-${randomUUID()}`;
    allowed.answer(`/dead-${user}`, 'hang');
    await endpoints(user, [{ id: 'dead', url: `${allowed.url}/dead-${user}` }, { id: 'healthy', url: `${allowed.url}/healthy-${user}` }]);
    const first = await post(user);
    const [got] = await requestsFor(`/healthy-${user}`, 1);
    expect(got!.at - first.at).toBeLessThan(1_500); // sent side by side with the hanging attempt, not after it
    await waitFor(async () => (await results(user)).find((r) => r.endpoint_id === 'dead' && r.outcome === 'retrying'), 'the dead endpoint\'s first attempt given up');
    // From now on its circuit is open: first attempts skip it, so nothing waits for it.
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const sent = await post(user);
      const [, ...rest] = await requestsFor(`/healthy-${user}`, i + 2);
      latencies.push(rest[rest.length - 1]!.at - sent.at);
    }
    expect(Math.max(...latencies)).toBeLessThan(1_500);
    const skipped = (await results(user)).filter((r) => r.endpoint_id === 'dead' && r.attempt === 1 && r.error?.includes('circuit open'));
    expect(skipped.length).toBeGreaterThan(0);
  });

  it('dead-letters a delivery after its last attempt, with the reason, status and attempts', async () => {
    const user = `u-${randomUUID()}`;
    const path = `/broken-${user}`;
    allowed.answer(path, { status: 500 });
    await endpoints(user, [{ id: 'broken', url: `${allowed.url}${path}` }]);
    await post(user);
    await requestsFor(path, 4);
    const letter = await waitFor(async () => (await readTopic(h.endpoints.kafkaBrokers, h.tidings.topics.deliveryWebhookDlq, (v) => codec().decode('DeliveryCommand', v)))
      .find((r) => r.value?.user_id === user), 'the dead letter');
    expect(letter.headers).toMatchObject({ 'x-tidings-error-code': 'TIDINGS_WEBHOOK_ATTEMPTS_EXHAUSTED', 'x-tidings-status': '500', 'x-tidings-attempts': '4' });
    expect(letter.value?.webhook?.endpoint_id).toBe('broken');
    const last = (await results(user)).filter((r) => r.endpoint_id === 'broken').pop();
    expect(last).toMatchObject({ attempt: 4, outcome: 'dead' });
    expect(allowed.at(path)).toHaveLength(4);
  });

  it('refuses to connect to an address outside the allowed networks, even when the endpoint got past the save-time check', async () => {
    const user = `u-${randomUUID()}`;
    await endpoints(user, [{ id: 'inside', url: `${refused.url}/secret-${user}` }]);
    await post(user);
    const result = await waitFor(async () => (await results(user)).find((r) => r.endpoint_id === 'inside'), 'the refused result');
    expect(result).toMatchObject({ outcome: 'failed', status: null });
    expect(result.error).toContain('refused');
    expect(refused.requests).toHaveLength(0);
  });
});

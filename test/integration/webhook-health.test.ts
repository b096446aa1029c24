/**
 * Endpoint health (Svix's rule): an endpoint that has only failed for
 * TIDINGS_WEBHOOK_DISABLE_AFTER_MS is disabled and its owner told with a
 * webhook_failure notification; enabling it again starts its count afresh
 * and its deliveries flow again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { ENDPOINT_DEFAULTS } from '../../src/model/routing.ts';
import { callApi, startHarness, waitFor, waitForConsumed, waitUntilProcessed, type Harness } from './harness.ts';
import { startReceiver, type Receiver } from './receivers.ts';

describe('webhook endpoint health', () => {
  let h: Harness;
  let receiver: Receiver;
  let db: pg.Client;

  beforeAll(async () => {
    receiver = await startReceiver('127.0.0.2');
    h = await startHarness({
      TIDINGS_ROLES: 'ingest,api,dedupe,router,projector,webhook', TIDINGS_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.2/32',
      TIDINGS_WEBHOOK_RETRY_SCHEDULE: '300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms', TIDINGS_WEBHOOK_DISABLE_AFTER_MS: '1500',
    });
    db = new pg.Client({ connectionString: h.endpoints.databaseUrl });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await h?.stop();
    await receiver?.close();
  });

  it('disables an endpoint that has only failed for the configured time, tells its owner, and counts afresh once it is enabled again', async () => {
    const user = `u-${randomUUID()}`;
    const path = `/failing-${user}`;
    receiver.answer(path, { status: 500 });
    await h.tidings.publisher.publish(h.tidings.topics.webhooks, user, {
      user_id: user, updated_at: Date.now(),
      endpoints: [{ ...ENDPOINT_DEFAULTS, id: 'failing', url: `${receiver.url}${path}`, format: 'generic', secret_encrypted: null, enabled: true, types: [] }],
    });
    await waitForConsumed(h, 'router', h.tidings.topics.webhooks);
    await waitUntilProcessed(h);
    const producer = await h.auth.sign({ userId: 'producer', roles: ['producer'] });
    const post = async () => {
      const sourceId = randomUUID();
      expect((await callApi(h, 'POST', '/v1/events', producer, {
        user_id: user, type: 'job_failed', title: 'Job failed', message: 'exit 1', source_type: 'job', source_id: sourceId,
      })).status).toBe(202);
      return sourceId;
    };
    await post();
    const row = await waitFor(async () => (await db.query<{ disabled_reason: string }>(
      'select disabled_reason from user_webhooks where user_id = $1 and not enabled', [user])).rows[0], 'the endpoint disabled', 20_000);
    expect(row.disabled_reason).toMatch(/only failed since/);
    const since = (await db.query<{ failing_since: Date }>('select failing_since from webhook_endpoint_stats where user_id = $1', [user])).rows[0]!.failing_since;
    const disabledAt = receiver.at(path).at(-1)!.at;
    expect(disabledAt - since.getTime()).toBeGreaterThanOrEqual(1_500);
    const told = await waitFor(async () => (await db.query('select 1 from notifications where user_id = $1 and type = $2', [user, 'webhook_failure'])).rows[0], 'the webhook_failure notification');
    expect(told).toBeDefined();

    const token = await h.auth.sign({ userId: user, roles: [] });
    const enabling = Date.now();
    expect((await callApi(h, 'POST', '/v1/webhooks/failing/enable', token)).status).toBe(202);
    await waitFor(async () => ((await db.query('select 1 from user_webhooks where user_id = $1 and enabled', [user])).rowCount === 1 ? true : undefined), 'the endpoint enabled');
    // The streak before the enable is forgotten. A retry still due (the event's
    // schedule outlasts the 1.5 s) may fail again once the endpoint is enabled,
    // and that starts a new streak, never one older than the enable.
    const reset = (await db.query<{ failing_since: Date | null }>('select failing_since from webhook_endpoint_stats where user_id = $1', [user])).rows[0];
    expect(reset).toBeDefined();
    if (reset!.failing_since !== null) expect(reset!.failing_since.getTime()).toBeGreaterThanOrEqual(enabling);
    expect(reset!.failing_since?.getTime() ?? null).not.toBe(since.getTime());

    // Enabled again, it gets deliveries again (this process disabled it, and must not keep skipping it).
    receiver.answer(path, { status: 200 });
    await waitForConsumed(h, 'router', h.tidings.topics.webhooks);
    const after = await post();
    await waitFor(() => receiver.at(path).find((r) => r.body.includes(after)), 'a delivery of an event posted after enabling');
  });
});

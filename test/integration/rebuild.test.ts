/**
 * `tidings rebuild` on the real stack: read models filled through the API and
 * the pipeline (notifications read and unread, preferences, a profile, a
 * webhook endpoint and its deliveries, audit entries) are dumped, rebuilt from
 * the log by the command run as a user runs it, and dumped again: the same
 * rows. While a projector runs, the command refuses and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { READ_MODEL_TABLES } from '../../src/db/rebuild.ts';
import { callApi, isolatedSettings, startWith, waitFor, waitUntilProcessed, type Harness } from './harness.ts';
import { startReceiver, type Receiver } from './receivers.ts';
import { runTidings } from './tidings-process.ts';

/** Every row of every read model, as JSON text, sorted: two dumps of equal read models are equal. */
async function dump(databaseUrl: string): Promise<Record<string, string[]>> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const tables: Record<string, string[]> = {};
    for (const table of Object.values(READ_MODEL_TABLES)) {
      const { rows } = await db.query<{ row: string }>(`select to_jsonb(t)::text as row from ${table} t`);
      tables[table] = rows.map((r) => r.row).sort();
    }
    return tables;
  } finally {
    await db.end();
  }
}

describe('tidings rebuild', () => {
  let h: Harness | undefined;
  let receiver: Receiver;
  let settings: Awaited<ReturnType<typeof isolatedSettings>>;

  beforeAll(async () => {
    receiver = await startReceiver('127.0.0.2');
    settings = await isolatedSettings({
      TIDINGS_ROLES: 'ingest,api,dedupe,router,projector,webhook',
      TIDINGS_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.2/32', TIDINGS_WEBHOOK_RETRY_SCHEDULE: '50ms',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    });
    h = await startWith(settings);
  });
  afterAll(async () => {
    await h?.stop();
    await receiver?.close();
  });

  it('refuses while a projector runs, then rebuilds read models equal to what they were', async () => {
    const running = h!;
    const producer = await running.auth.sign({ userId: 'svc', roles: ['producer'] });
    const users = [`alice-${randomUUID()}`, `bob-${randomUUID()}`];
    receiver.answer('/bob', { status: 500 }, { status: 200 }); // one retry, so delivery_attempts has two attempts
    for (const [i, user] of users.entries()) {
      const token = await running.auth.sign({ userId: user, roles: [] });
      expect((await callApi(running, 'PUT', '/v1/recipients/me', token, { email: `${user}@example.test`, display_name: user, locale: 'en' })).status).toBe(202);
      expect((await callApi(running, 'PUT', '/v1/preferences', token, { preferences: [{ type: 'job_completed', in_app: true, email: false, webhook: true }] })).status).toBe(202);
      expect((await callApi(running, 'PUT', '/v1/webhooks', token, { endpoints: [{ id: 'e1', url: `${receiver.url}/${i === 0 ? 'alice' : 'bob'}`, format: 'generic', types: [] }] })).status).toBe(202);
    }
    await waitUntilProcessed(running);
    for (const user of users) {
      for (const type of ['job_completed', 'job_failed', 'security_password_changed']) {
        const posted = await callApi(running, 'POST', '/v1/events', producer, { user_id: user, type, title: type, message: 'm', source_type: 'test', source_id: randomUUID() });
        expect(posted.status).toBe(202);
      }
    }
    await waitUntilProcessed(running);
    const alice = await running.auth.sign({ userId: users[0]!, roles: [] });
    const [first] = (await callApi(running, 'GET', '/v1/notifications?limit=10', alice)).body.notifications as { id: string }[];
    expect((await callApi(running, 'POST', `/v1/notifications/${first!.id}/read`, alice)).status).toBe(202);
    // Every delivery settled (bob's after its retry) and projected, the read applied.
    const before = await waitFor(async () => {
      const d = await dump(settings.endpoints.databaseUrl);
      const settled = d.delivery_attempts!.filter((r) => !r.includes('"outcome": "retrying"')).length;
      const read = d.notifications!.some((r) => r.includes(first!.id) && !r.includes('"read_at": null'));
      return settled >= 6 && read ? d : undefined;
    }, 'every delivery result and the read projected');
    expect(before.audit_log).toHaveLength(2);
    expect(before.notification_preferences).toHaveLength(2);
    expect(before.user_webhooks).toHaveLength(2);
    expect(before.webhook_endpoint_stats!.length).toBeGreaterThan(0);

    const refused = await runTidings(['rebuild', '--yes'], settings.env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('stop every process with the projector role first');
    expect(await dump(settings.endpoints.databaseUrl)).toEqual(before);

    await running.stop();
    h = undefined;
    const rebuilt = await runTidings(['rebuild', '--yes'], settings.env);
    expect(rebuilt.stderr).toMatch(/rebuild 100%/);
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stdout).toMatch(/^notifications\s+6$/m);
    expect(await dump(settings.endpoints.databaseUrl)).toEqual(before);
  }, 180_000);

  it('asks for --yes', async () => {
    const answer = await runTidings(['rebuild'], settings.env);
    expect(answer.code).toBe(2);
    expect(answer.stderr).toContain('--yes');
  });
});

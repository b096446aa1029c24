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
import type { Notification } from '../../src/model/notification.ts';
import { callApi, isolatedSettings, startWith, waitFor, waitForConsumed, waitUntilProcessed, type Harness } from './harness.ts';
import { startReceiver, type Receiver } from './receivers.ts';
import { runTidings } from './tidings-process.ts';

/** Each table of `after` holds the rows of `before`'s, table by table (so a difference names its table and rows). */
function expectSameRows(after: Record<string, string[]>, before: Record<string, string[]>): void {
  expect(Object.keys(after)).toEqual(Object.keys(before));
  for (const [table, rows] of Object.entries(before)) expect(after[table], table).toEqual(rows);
}

/** Every row of every read model, as JSON text, sorted: two dumps of equal read models are equal. */
async function dump(databaseUrl: string): Promise<Record<string, string[]>> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    // One snapshot of every table: the projector may commit between two of the selects.
    await db.query('begin isolation level repeatable read read only');
    const tables: Record<string, string[]> = {};
    for (const table of Object.values(READ_MODEL_TABLES)) {
      const { rows } = await db.query<{ row: string }>(`select to_jsonb(t)::text as row from ${table} t`);
      tables[table] = rows.map((r) => r.row).sort();
    }
    await db.query('commit');
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

  it('a notification projected after its read events (as a replay may) gets the read state they gave it', async () => {
    const running = h!;
    const user = `early-${randomUUID()}`;
    const now = Date.now();
    const notification = (title: string): Notification => ({
      id: randomUUID(), user_id: user, type: 'job_completed', category: 'job', severity: 'info', title, message: 'm', data: '{}',
      action_url: null, source_type: 'test', source_id: randomUUID(), source_key: `test:${randomUUID()}`, event_id: null, occurred_at: now, created_at: now,
    });
    const [read, archived, readAll, later] = [notification('read'), notification('archived'), notification('read all'), notification('after read all')];
    later.created_at = now + 60_000;
    const { publisher, topics } = running.tidings;
    await publisher.publish(topics.reads, user, { user_id: user, action: 'read', notification_id: read.id, before: null, at: now + 1_000 });
    await publisher.publish(topics.reads, user, { user_id: user, action: 'archive', notification_id: archived.id, before: null, at: now + 2_000 });
    await publisher.publish(topics.reads, user, { user_id: user, action: 'read_all', notification_id: null, before: now + 30_000, at: now + 3_000 });
    await waitForConsumed(running, 'projector', topics.reads);
    for (const n of [read, archived, readAll, later]) await publisher.publish(topics.inbox, user, n);
    await waitUntilProcessed(running);
    const db = new pg.Client({ connectionString: settings.endpoints.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query<{ title: string; read_at: Date | null; archived_at: Date | null }>('select title, read_at, archived_at from notifications where user_id = $1 order by title', [user]);
      expect(rows.map((r) => [r.title, r.read_at?.getTime() ?? null, r.archived_at?.getTime() ?? null])).toEqual([
        ['after read all', null, null],
        ['archived', now + 3_000, now + 2_000], // read_all (before its creation + 30 s) reads it too
        ['read', now + 1_000, null],
        ['read all', now + 3_000, null],
      ]);
    } finally {
      await db.end();
    }
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
    expect(before.notification_read_events!.length).toBeGreaterThanOrEqual(4);
    expect(before.notification_preferences).toHaveLength(2);
    expect(before.user_webhooks).toHaveLength(2);
    expect(before.webhook_endpoint_stats!.length).toBeGreaterThan(0);

    const refused = await runTidings(['rebuild', '--yes'], settings.env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('stop every process with the projector role first');
    expectSameRows(await dump(settings.endpoints.databaseUrl), before);

    await running.stop();
    h = undefined;
    const rebuilt = await runTidings(['rebuild', '--yes'], settings.env);
    expect(rebuilt.stderr).toMatch(/rebuild 100%/);
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stdout).toMatch(/^notifications\s+10$/m);
    expectSameRows(await dump(settings.endpoints.databaseUrl), before);
  }, 180_000);

  it('asks for --yes', async () => {
    const answer = await runTidings(['rebuild'], settings.env);
    expect(answer.code).toBe(2);
    expect(answer.stderr).toContain('--yes');
  });
});

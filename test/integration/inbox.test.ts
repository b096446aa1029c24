/**
 * The inbox API on the real stack: pagination, unread counts, read / read all /
 * archive through notification.reads, profiles and preferences read back from
 * Postgres, the admin audit log, and that users only ever reach their own data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startHarness, waitFor, waitUntilProcessed, type Harness, callApi } from './harness.ts';

describe('inbox API', () => {
  let h: Harness;
  let producer: string;
  const alice = `alice-${randomUUID()}`;
  const bob = `bob-${randomUUID()}`;
  let aliceToken: string;
  let bobToken: string;

  beforeAll(async () => {
    h = await startHarness();
    producer = await h.auth.sign({ userId: 'svc', roles: ['producer'] });
    aliceToken = await h.auth.sign({ userId: alice, roles: [] });
    bobToken = await h.auth.sign({ userId: bob, roles: [] });
    for (let i = 0; i < 5; i++) await emit(alice, 'job_completed', `Job ${i}`);
    await emit(alice, 'security_suspicious_login', 'Login from a new place');
    for (let i = 0; i < 2; i++) await emit(bob, 'job_failed', `Bob job ${i}`);
    await waitUntilProcessed(h);
  });
  afterAll(async () => h?.stop());

  async function emit(userId: string, type: string, title: string) {
    const response = await fetch(`${h.tidings.url}/v1/events`, {
      method: 'POST', headers: { authorization: `Bearer ${producer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: userId, type, title, message: title, source_type: 'test', source_id: randomUUID() }),
    });
    expect(response.status).toBe(202);
  }
  const api = (method: string, path: string, token: string, body?: unknown) => callApi(h, method, path, token, body);
  const unread = async (token: string) => (await api('GET', '/v1/notifications/unread-count', token)).body.unread as number;

  it('lists a user\'s notifications newest first, a page at a time, and only theirs', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await api('GET', `/v1/notifications?limit=2${cursor ? `&cursor=${cursor}` : ''}`, aliceToken);
      expect(page.status).toBe(200);
      expect(page.body.notifications.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.notifications.map((n: { id: string }) => n.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(6);
    expect(new Set(seen).size).toBe(6);
    const all = (await api('GET', '/v1/notifications?limit=100', aliceToken)).body.notifications as { id: string; created_at: string; title: string }[];
    expect(all.map((n) => n.id)).toEqual(seen);
    expect([...all].sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id.localeCompare(a.id)).map((n) => n.id)).toEqual(seen);
    const bobs = (await api('GET', '/v1/notifications', bobToken)).body.notifications as { title: string }[];
    expect(bobs.map((n) => n.title).sort()).toEqual(['Bob job 0', 'Bob job 1']);
  });

  it('marks read, reads all, archives, and keeps unread counts right', async () => {
    expect(await unread(aliceToken)).toBe(6);
    const [first, second] = (await api('GET', '/v1/notifications', aliceToken)).body.notifications as { id: string }[];
    expect((await api('POST', `/v1/notifications/${first!.id}/read`, aliceToken)).status).toBe(202);
    await waitFor(async () => ((await unread(aliceToken)) === 5 ? true : undefined), 'unread 5');
    const unreadList = (await api('GET', '/v1/notifications?unread=true&limit=100', aliceToken)).body.notifications as { id: string; read: boolean }[];
    expect(unreadList.map((n) => n.id)).not.toContain(first!.id);

    expect((await api('POST', `/v1/notifications/${second!.id}/archive`, aliceToken)).status).toBe(202);
    await waitFor(async () => ((await api('GET', '/v1/notifications?archived=true', aliceToken)).body.notifications.length === 1 ? true : undefined), 'one archived');
    expect((await api('GET', '/v1/notifications?limit=100', aliceToken)).body.notifications.map((n: { id: string }) => n.id)).not.toContain(second!.id);

    expect((await api('POST', '/v1/notifications/read-all', aliceToken)).status).toBe(202);
    await waitFor(async () => ((await unread(aliceToken)) === 0 ? true : undefined), 'unread 0');
    expect(await unread(bobToken)).toBe(2);
  });

  it('user A cannot read or change user B\'s inbox or preferences', async () => {
    const [bobsFirst] = (await api('GET', '/v1/notifications', bobToken)).body.notifications as { id: string }[];
    expect((await api('POST', `/v1/notifications/${bobsFirst!.id}/read`, aliceToken)).status).toBe(404);
    expect((await api('POST', `/v1/notifications/${bobsFirst!.id}/archive`, aliceToken)).status).toBe(404);
    expect((await api('POST', '/v1/notifications/read-all', aliceToken)).status).toBe(202);
    await waitUntilProcessed(h);
    expect(await unread(bobToken)).toBe(2);
    // Preferences and profiles are addressed by the token's subject only; another user's cannot be named.
    expect((await api('PUT', '/v1/preferences', aliceToken, { preferences: [{ type: 'job_failed', in_app: false, email: false, webhook: false }] })).status).toBe(202);
    await waitFor(async () => ((await api('GET', '/v1/preferences', aliceToken)).body.preferences.find((p: { type: string }) => p.type === 'job_failed').customised ? true : undefined), 'alice\'s choice projected');
    const bobs = (await api('GET', '/v1/preferences', bobToken)).body.preferences.find((p: { type: string }) => p.type === 'job_failed');
    expect(bobs).toMatchObject({ customised: false, email: true });
    expect((await api('PUT', `/v1/recipients/${bob}`, aliceToken, { email: 'evil@example.test' })).status).toBe(403);
    expect((await api('GET', '/v1/admin/audit', aliceToken)).status).toBe(403);
    expect((await api('GET', '/v1/notifications?cursor=bogus', aliceToken)).status).toBe(400);
  });

  it('a user editing their own profile keeps the roles an admin gave them', async () => {
    const admin = await h.auth.sign({ userId: 'root', roles: ['admin'] });
    const dana = `dana-${randomUUID()}`;
    const danaToken = await h.auth.sign({ userId: dana, roles: [] });
    expect((await api('PUT', `/v1/recipients/${dana}`, admin, { email: 'dana@example.test', roles: ['oncall'] })).status).toBe(202);
    await waitFor(async () => ((await api('GET', '/v1/recipients/me', danaToken)).status === 200 ? true : undefined), 'the admin\'s write projected');
    expect((await api('PUT', '/v1/recipients/me', danaToken, { display_name: 'Dana', topics: ['gpu-farm'] })).status).toBe(202);
    const profile = await waitFor(async () => { const r = await api('GET', '/v1/recipients/me', danaToken); return r.body.display_name === 'Dana' ? r.body : undefined; }, 'dana\'s edit projected');
    expect(profile).toMatchObject({ display_name: 'Dana', roles: ['oncall'], topics: ['gpu-farm'] });
  });

  it('reads back a profile and lists the audit log for admins', async () => {
    expect((await api('GET', '/v1/recipients/me', bobToken)).status).toBe(404);
    expect((await api('PUT', '/v1/recipients/me', bobToken, { email: 'bob@example.test', display_name: 'Bob' })).status).toBe(202);
    const profile = await waitFor(async () => { const r = await api('GET', '/v1/recipients/me', bobToken); return r.status === 200 ? r.body : undefined; }, 'bob\'s profile');
    expect(profile).toMatchObject({ user_id: bob, email: 'bob@example.test', display_name: 'Bob', locale: 'en', time_zone: 'UTC', roles: [], topics: [] });

    const admin = await h.auth.sign({ userId: 'root', roles: ['admin'] });
    const audit = await waitFor(async () => {
      const r = await api('GET', `/v1/admin/audit?user_id=${alice}`, admin);
      return r.body.entries?.length === 1 ? r.body.entries : undefined;
    }, 'the audit entry');
    expect(audit[0]).toMatchObject({ user_id: alice, type: 'security_suspicious_login', title: 'Login from a new place' });
  });
});

/**
 * Deduplication on the real broker: concurrent repeats, repeats after a
 * restart (state restored from the changelog), repeats under another key
 * (repartitioned first), and fan-out to an audience.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createCodec } from '../../src/kafka/codec.ts';
import type { Notification } from '../../src/model/notification.ts';
import { sourceKey } from '../../src/model/notification.ts';
import { stableId } from '../../src/model/ids.ts';
import { isolatedSettings, startWith, waitFor, waitUntilProcessed, readTopic, type Harness } from './harness.ts';

describe('dedupe', () => {
  let settings: Awaited<ReturnType<typeof isolatedSettings>>;
  let h: Harness;
  let db: pg.Pool;
  let token: string;

  beforeAll(async () => {
    settings = await isolatedSettings();
    h = await startWith(settings);
    db = new pg.Pool({ connectionString: settings.endpoints.databaseUrl });
    token = await h.auth.sign({ userId: 'producer', roles: ['producer'] });
  });
  afterAll(async () => {
    await db?.end();
    await h?.stop();
  });

  const body = (userId: string | null, sourceId: string, extra: Record<string, unknown> = {}) => ({
    user_id: userId, type: 'first_crack', title: 'First crack', message: 'A hash of list 5 was cracked', source_type: 'hashlist', source_id: sourceId, ...extra,
  });
  const post = async (b: unknown) => {
    const response = await fetch(`${h.tidings.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(b) });
    expect(response.status).toBe(202);
  };
  const rows = async (userId: string) => (await db.query('select id, source_key from notifications where user_id = $1', [userId])).rows as { id: string; source_key: string }[];
  const accepted = async () => {
    const codec = createCodec(settings.endpoints.schemaRegistryUrl);
    return (await readTopic(settings.endpoints.kafkaBrokers, h.tidings.topics.accepted, async (v) => (await codec.decode('Notification', v)) as Notification)).map((r) => r.value as Notification);
  };

  it('the same source key published 5 times concurrently, and again after a restart, gives exactly one notification', async () => {
    const user = `u-${randomUUID()}`;
    const source = randomUUID();
    await Promise.all(Array.from({ length: 5 }, () => post(body(user, source))));
    await waitUntilProcessed(h);

    await h.stop();
    h = await startWith(settings); // a new process would have no memory: the state comes back from notification.dedupe
    await Promise.all(Array.from({ length: 5 }, () => post(body(user, source))));
    await waitUntilProcessed(h);

    const key = sourceKey({ source_type: 'hashlist', source_id: source, type: 'first_crack' }, user);
    expect((await rows(user)).filter((r) => r.source_key === key)).toEqual([{ id: stableId(key), source_key: key }]);
    const inLog = (await accepted()).filter((n) => n.source_key === key);
    expect(inLog.map((n) => n.id)).toEqual([stableId(key)]);
  });

  it('an event produced under another key is repartitioned and still deduplicated', async () => {
    const user = `u-${randomUUID()}`;
    const source = randomUUID();
    const event = { event_id: null, user_id: user, audience: null, type: 'first_crack', title: 'First crack', message: 'cracked', severity: 'info' as const, data: null, action_url: null, source_type: 'hashlist', source_id: source, occurred_at: Date.now() };
    // The producer's mistakes: a random key, no key at all, and then the right key.
    await h.tidings.publisher.publish(h.tidings.topics.events, `wrong-${randomUUID()}`, event);
    await h.tidings.publisher.publish(h.tidings.topics.events, randomUUID(), event);
    await h.tidings.publisher.publish(h.tidings.topics.events, sourceKey(event, user), event);
    await waitUntilProcessed(h);
    const key = sourceKey(event, user);
    expect((await rows(user)).filter((r) => r.source_key === key)).toHaveLength(1);
    // Postgres would hide a duplicate (same id); the log may not hold one either.
    expect((await accepted()).filter((n) => n.source_key === key).map((n) => n.id)).toEqual([stableId(key)]);
    const repartitioned = (await readTopic(settings.endpoints.kafkaBrokers, h.tidings.topics.events, async () => null)).filter((r) => r.key === key);
    expect(repartitioned.length).toBe(3); // two sent back under the source key, one produced under it
  });

  it('events whose ids hold ":" are never taken for each other (the source key escapes its parts)', async () => {
    const run = randomUUID();
    // Joined with bare ":" both were job:a:job_completed:x:job_completed:v…, and one was dropped as a duplicate of the other.
    const first = { ...body(`x:job_completed:${run}`, 'a'), type: 'job_completed', source_type: 'job' };
    const second = { ...body(run, `a:job_completed:x`), type: 'job_completed', source_type: 'job' };
    const urn = { ...body(`urn:user:${run}`, `urn:job:${run}`), type: 'job_completed', source_type: 'urn:tidings:job' };
    await post(first);
    await post(second);
    await post(urn);
    await waitUntilProcessed(h);
    const log = await accepted();
    for (const e of [first, second, urn]) {
      const key = sourceKey({ source_type: e.source_type, source_id: e.source_id, type: e.type }, e.user_id as string);
      expect(log.filter((n) => n.user_id === e.user_id && n.source_id === e.source_id).map((n) => n.id)).toEqual([stableId(key)]);
    }
  });

  it('an audience naming a role and a topic reaches the role\'s holders and the topic\'s subscribers, once each', async () => {
    const admin = await h.auth.sign({ userId: 'root', roles: ['admin'] });
    const name = (n: string) => `${n}-${randomUUID()}`;
    const ops1 = name('ops1');
    const ops2 = name('ops2');
    const watcher = name('watcher');
    const bystander = name('bystander');
    const role = `oncall-${randomUUID().slice(0, 8)}`;
    const topic = `gpu-farm-${randomUUID().slice(0, 8)}`;
    const put = async (path: string, token: string, b: unknown) => {
      const response = await fetch(`${h.tidings.url}${path}`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(b) });
      expect(response.status).toBe(202);
    };
    await put(`/v1/recipients/${ops1}`, admin, { roles: [role] });
    await put(`/v1/recipients/${ops2}`, admin, { roles: [role, 'other'] });
    await put('/v1/recipients/me', await h.auth.sign({ userId: watcher, roles: [] }), { topics: [topic] });
    await put(`/v1/recipients/${bystander}`, admin, { roles: ['other'] });
    await waitFor(() => (h.tidings.directory?.get(watcher)?.topics.includes(topic) && h.tidings.directory.get(bystander) ? true : undefined), 'the directory to see the profiles');

    const source = randomUUID();
    const outage = { user_id: null, audience: { roles: [role], topics: [topic] }, type: 'agent_offline', title: 'Agent offline', message: 'gpu-3 stopped answering', source_type: 'agent', source_id: source };
    await post(outage);
    await post(outage);
    await waitUntilProcessed(h);
    const log = await accepted();
    const reached = log.filter((n) => n.source_id === source).map((n) => n.user_id).sort();
    expect(reached).toEqual([ops1, ops2, watcher].sort());
  });

  it('an audience of all reaches every known recipient (every profile), once each, and no one without a profile', async () => {
    const admin = await h.auth.sign({ userId: 'root', roles: ['admin'] });
    const known = [`k1-${randomUUID()}`, `k2-${randomUUID()}`];
    for (const user of known) {
      const response = await fetch(`${h.tidings.url}/v1/recipients/${user}`, { method: 'PUT', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ locale: 'en' }) });
      expect(response.status).toBe(202);
    }
    await waitFor(() => (known.every((u) => h.tidings.directory?.get(u)) ? true : undefined), 'the directory to see the profiles');
    const source = randomUUID();
    const broadcast = { user_id: null, audience: { all: true }, type: 'maintenance_announcement', title: 'Maintenance tonight', message: 'Down from 22:00 to 23:00 UTC', source_type: 'maintenance', source_id: source };
    await post(broadcast);
    await post(broadcast);
    await waitUntilProcessed(h);
    const reached = (await accepted()).filter((n) => n.source_id === source).map((n) => n.user_id);
    // Every user with a profile, whichever test made it: the two here among them, each once.
    expect(new Set(reached).size).toBe(reached.length);
    for (const user of known) expect(reached).toContain(user);
    expect(reached.sort()).toEqual([...h.tidings.directory!.entries()].map(([userId]) => userId).sort());
  });

  it('an audience fans out to one notification per recipient, once', async () => {
    const users = [`a-${randomUUID()}`, `b-${randomUUID()}`, `c-${randomUUID()}`];
    const source = randomUUID();
    const announcement = { user_id: null, audience: { user_ids: [...users, users[0]] }, type: 'maintenance_announcement', title: 'Maintenance', message: 'Down at 02:00 UTC', source_type: 'maintenance', source_id: source };
    await post(announcement);
    await post(announcement);
    await waitUntilProcessed(h);
    const log = await accepted();
    for (const user of users) {
      const key = sourceKey({ source_type: 'maintenance', source_id: source, type: 'maintenance_announcement' }, user);
      expect((await rows(user)).filter((r) => r.source_key === key)).toEqual([{ id: stableId(key), source_key: key }]);
      expect(log.filter((n) => n.source_key === key).map((n) => n.id)).toEqual([stableId(key)]);
    }
  });
});

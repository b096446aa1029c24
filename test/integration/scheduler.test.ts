/**
 * Delayed notifications on the real stack: KrakenHashes' agent-offline buffer
 * (fired after the buffer, never when the agent reconnected first, whichever
 * of the two events reached Tidings first), Nexora's approval escalation
 * (escalation and timeout notice at respond_by, nothing when answered), and
 * timers pending across a SIGKILL of the process firing them: each once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createCodec } from '../../src/kafka/codec.ts';
import { topicNames } from '../../src/kafka/topics.ts';
import { callApi, isolatedSettings, readTopic, startWith, waitFor, waitUntilProcessed, type Harness } from './harness.ts';
import { startTidingsProcess, type TidingsProcess } from './tidings-process.ts';
import { createAuthenticator } from '../../src/auth.ts';

const BUFFER = 1_500; // ms, TIDINGS_AGENT_OFFLINE_BUFFER_MS here
const ROLES = 'ingest,api,dedupe,scheduler,router,projector';

interface Listed { id: string; type: string; title: string; created_at: string; occurred_at: string; data: Record<string, unknown> }

describe('the scheduler', () => {
  let h: Harness;
  let producer: string;
  let admin: string;

  beforeAll(async () => {
    h = await startWith(await isolatedSettings({ TIDINGS_ROLES: ROLES, TIDINGS_AGENT_OFFLINE_BUFFER_MS: String(BUFFER), TIDINGS_SCHEDULER_TICK_MS: '50' }));
    producer = await h.auth.sign({ userId: 'svc', roles: ['producer'] });
    admin = await h.auth.sign({ userId: 'root', roles: ['admin'] });
  });
  afterAll(async () => { await h?.stop(); });

  async function post(body: Record<string, unknown>): Promise<void> {
    const { status, body: answer } = await callApi(h, 'POST', '/v1/events', producer, { title: 't', message: 'm', source_type: 'agent', source_id: randomUUID(), ...body });
    expect(status, JSON.stringify(answer)).toBe(202);
  }
  const inbox = async (userId: string): Promise<Listed[]> =>
    (await callApi(h, 'GET', '/v1/notifications?limit=100', await h.auth.sign({ userId, roles: [] }))).body.notifications as Listed[];
  const arrived = (userId: string, type: string, what = `a ${type} for ${userId}`) =>
    waitFor(async () => (await inbox(userId)).find((n) => n.type === type), what, 30_000);

  it('agent_offline arrives after the buffer, and not before', async () => {
    const alice = `alice-${randomUUID()}`;
    const posted = Date.now();
    await post({ user_id: alice, type: 'agent_offline', title: 'Agent agent-7 is offline', timer_key: 'agent-7:offline', occurred_at: posted });
    await waitUntilProcessed(h);
    expect(await inbox(alice)).toEqual([]); // dedupe is past it: it waits as a timer
    const notification = await arrived(alice, 'agent_offline');
    expect(Date.parse(notification.created_at)).toBeGreaterThanOrEqual(posted + BUFFER);
    expect(notification.title).toBe('Agent agent-7 is offline');
  });

  it('agent_offline is never delivered when the agent reconnected within the buffer, even if the reconnect reached Tidings first', async () => {
    const bob = `bob-${randomUUID()}`;
    const t = Date.now();
    // In order: offline, then reconnected.
    await post({ user_id: bob, type: 'agent_offline', timer_key: 'agent-8:offline', occurred_at: t });
    await post({ user_id: bob, type: 'agent_reconnected', cancels: ['agent-8:offline'], occurred_at: t + 100 });
    // Out of order: the reconnect (later) is posted before the offline it cancels.
    await post({ user_id: bob, type: 'agent_reconnected', cancels: ['agent-9:offline'], occurred_at: t + 100 });
    await post({ user_id: bob, type: 'agent_offline', timer_key: 'agent-9:offline', occurred_at: t });
    // A sentinel due after both: once it has arrived, a timer due earlier would have fired too.
    await post({ user_id: bob, type: 'agent_offline', title: 'sentinel', timer_key: 'sentinel:offline', occurred_at: t + 200 });
    await arrived(bob, 'agent_offline', 'the sentinel');
    expect((await inbox(bob)).filter((n) => n.type === 'agent_offline').map((n) => n.title)).toEqual(['sentinel']);
  });

  it('an approval nobody answers escalates at respond_by: [ESCALATION] to the contact, a timeout notice to the approvers; an answered one does neither', async () => {
    const [approver1, approver2, boss] = [`approver-${randomUUID()}`, `approver-${randomUUID()}`, `boss-${randomUUID()}`];
    const role = `approver${randomUUID().slice(0, 8)}`;
    for (const user of [approver1, approver2]) expect((await callApi(h, 'PUT', `/v1/recipients/${user}`, admin, { roles: [role] })).status).toBe(202);
    await waitUntilProcessed(h);
    const request = (approvalId: string, respondBy: number) => post({
      type: 'workflow_approval', audience: { roles: [role] }, source_type: 'workflow', source_id: approvalId, title: 'Approve: Rotate Credentials',
      data: { approval_id: approvalId, step: 'Rotate Credentials', respond_by: new Date(respondBy).toISOString(), escalation_contact: boss },
    });
    const [unanswered, answered] = [`ap-${randomUUID()}`, `ap-${randomUUID()}`];
    await request(answered, Date.now() + 1_000);
    await request(unanswered, Date.now() + 2_000);
    await post({ user_id: approver1, type: 'workflow_approval_answered', source_type: 'workflow', source_id: `${answered}:answer`, data: { approval_id: answered, answer: 'approved' } });
    for (const user of [approver1, approver2]) await arrived(user, 'workflow_approval');

    const escalation = await arrived(boss, 'approval_escalation');
    expect(escalation).toMatchObject({ title: '[ESCALATION] Approval Timeout: Rotate Credentials', data: { approval_id: unanswered, step: 'Rotate Credentials' } });
    for (const user of [approver1, approver2]) expect(await arrived(user, 'approval_timed_out')).toMatchObject({ data: { approval_id: unanswered } });
    // The answered approval's were due a second earlier; a second request's escalation arrived, so they would have too.
    await waitUntilProcessed(h);
    expect((await inbox(boss)).map((n) => n.data.approval_id)).toEqual([unanswered]);
    expect((await inbox(approver2)).filter((n) => n.type === 'approval_timed_out').map((n) => n.data.approval_id)).toEqual([unanswered]);
    // Audited, as every step of an approval: the escalation in the contact's trail, the timeout in each approver's.
    const audited = async (userId: string) => ((await callApi(h, 'GET', `/v1/admin/audit?user_id=${userId}`, admin)).body.entries as { type: string }[]).map((e) => e.type);
    expect(await audited(boss)).toEqual(['approval_escalation']);
    expect((await audited(approver2)).sort()).toEqual(['approval_timed_out', 'workflow_approval', 'workflow_approval']);
  });
});

describe('timers across a SIGKILL', () => {
  const children: TidingsProcess[] = [];
  afterAll(() => { for (const c of children) c.kill(); });

  it('every timer pending or firing when the process was killed fires exactly once after a restart', async () => {
    const settings = await isolatedSettings({ LOG_LEVEL: 'warn', TIDINGS_ROLES: 'ingest,dedupe,scheduler', TIDINGS_SCHEDULER_TICK_MS: '20' });
    const topics = topicNames(settings.env.TIDINGS_TOPIC_PREFIX!);
    const codec = createCodec(settings.endpoints.schemaRegistryUrl);
    const auth = createAuthenticator({ secret: settings.env.TIDINGS_JWT_SECRET! });
    const first = await startTidingsProcess({ ...settings.env, TIDINGS_INSTANCE_ID: `${settings.id}-a` });
    children.push(first);
    const token = await auth.sign({ userId: 'svc', roles: ['producer'] });
    const due = Date.now() + 4_000;
    const keys = Array.from({ length: 300 }, (_, i) => `crash-${i}`);
    // Spread over 3 s, so that the kill falls while some have fired and others are pending.
    const dueOf = (key: string) => due + 10 * Number(key.slice('crash-'.length));
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map(async (key) => {
        const response = await fetch(`${first.url}/v1/events`, {
          method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ user_id: `u-${key}`, type: 'job_completed', title: key, message: key, source_type: 'job', source_id: key, deliver_at: dueOf(key), timer_key: key }),
        });
        expect(response.status).toBe(202);
      }));
    }
    const fired = async () => (await readTopic(settings.endpoints.kafkaBrokers, topics.events, (v) => codec.decode('NotificationEvent', v)))
      .filter((r) => r.headers['tidings-timer'] !== undefined);
    // Killed once the first fired events are committed, while the rest are firing or pending.
    await first.waitFor(async () => ((await fired()).length > 0 ? true : undefined), 'the first timers to fire', 30_000);
    first.kill();
    const before = (await fired()).length;

    const second = await startTidingsProcess({ ...settings.env, TIDINGS_INSTANCE_ID: `${settings.id}-b` });
    children.push(second);
    await second.waitFor(async () => ((await fired()).length >= keys.length ? true : undefined), 'every timer to fire', 90_000);
    const records = await fired();
    const counts = new Map<string, number>();
    for (const r of records) counts.set(r.headers['tidings-timer']!, (counts.get(r.headers['tidings-timer']!) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual([...keys].sort());
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(records.every((r) => r.value?.deliver_at === dueOf(r.headers['tidings-timer']!))).toBe(true);
    // The kill fell in the middle: some had fired, some had not.
    expect(before).toBeLessThan(keys.length);
    expect(await second.stop()).toBe(0);
    children.length = 0;
  }, 180_000);
});

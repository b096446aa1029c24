/**
 * Routing on the real broker: preferences, profiles and webhook endpoints as
 * tables joined with accepted notifications; the inbox records, delivery
 * commands and audit events that come out, read with read_committed, and what
 * the in-app preference does to the inbox and the WebSocket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENDPOINT_DEFAULTS } from '../../src/model/routing.ts';
import { randomUUID } from 'node:crypto';
import { createCodec } from '../../src/kafka/codec.ts';
import type { SchemaName } from '../../src/kafka/topics.ts';
import type { Notification } from '../../src/model/notification.ts';
import type { AuditEvent, DeliveryCommand, WebhookEndpoints } from '../../src/model/routing.ts';
import { startHarness, readTopic, waitFor, waitForConsumed, waitUntilProcessed, type Harness, callApi, connectClient } from './harness.ts';

describe('routing', () => {
  let h: Harness;
  let producer: string;
  const codec = () => createCodec(h.endpoints.schemaRegistryUrl);

  beforeAll(async () => {
    h = await startHarness({ TIDINGS_GLOBAL_WEBHOOK_URL: 'https://hooks.example.test/ops', TIDINGS_GLOBAL_WEBHOOK_FORMAT: 'slack' });
    producer = await h.auth.sign({ userId: 'svc', roles: ['producer'] });
  });
  afterAll(async () => h?.stop());

  const call = (method: string, path: string, token: string, body: unknown) => callApi(h, method, path, token, body);
  /** Posts one event for `userId`; returns its source id (and, through `ids`, the notification id). */
  const emit = async (userId: string, type: string, ids?: Map<string, string>) => {
    const sourceId = randomUUID();
    const { status, body } = await call('POST', '/v1/events', producer, { user_id: userId, type, title: type, message: `${type} happened`, source_type: 'test', source_id: sourceId });
    expect(status).toBe(202);
    ids?.set(sourceId, body.notification_ids[userId]);
    return sourceId;
  };
  const read = async <T>(topic: string, schema: SchemaName) => {
    const c = codec();
    return (await readTopic(h.endpoints.kafkaBrokers, topic, async (v) => (await c.decode(schema, v)) as T)).map((r) => r.value as T);
  };
  /** Waits until the router has routed everything accepted so far. */
  const routed = async () => {
    await waitUntilProcessed(h);
    await waitForConsumed(h, 'router', h.tidings.topics.accepted);
  };

  it('honours an opt-out, delivers mandatory types anyway, and audits security events', async () => {
    const alice = `alice-${randomUUID()}`;
    const token = await h.auth.sign({ userId: alice, roles: [] });
    expect((await call('PUT', '/v1/recipients/me', token, { email: 'alice@example.test', display_name: 'Alice', locale: 'en-GB', time_zone: 'Europe/London' })).status).toBe(202);
    const prefs = await call('PUT', '/v1/preferences', token, { preferences: [
      { type: 'job_failed', in_app: true, email: false, webhook: false },
      { type: 'security_password_changed', in_app: false, email: false, webhook: false },
    ] });
    expect(prefs.status).toBe(202);
    expect(prefs.body.preferences).toContainEqual({ type: 'security_password_changed', category: 'security', mandatory: true, customised: true, in_app: true, email: true, webhook: false });
    await waitForConsumed(h, 'router', h.tidings.topics.preferences);
    await waitForConsumed(h, 'router', h.tidings.topics.recipients);

    const failed = await emit(alice, 'job_failed');
    const changed = await emit(alice, 'security_password_changed');
    const agent = await emit(alice, 'agent_offline');
    await routed();

    const bulk = (await read<DeliveryCommand>(h.tidings.topics.deliveryEmail, 'DeliveryCommand')).filter((c) => c.user_id === alice);
    const priority = (await read<DeliveryCommand>(h.tidings.topics.deliveryEmailPriority, 'DeliveryCommand')).filter((c) => c.user_id === alice);
    // The mandatory type's e-mail takes the priority lane.
    expect(bulk.map((c) => c.notification.source_id)).toEqual([agent]);
    expect(priority.map((c) => c.notification.source_id)).toEqual([changed]);
    const email = [...bulk, ...priority];
    expect(email[0]?.email).toEqual({ address: 'alice@example.test', display_name: 'Alice', locale: 'en-GB' });
    expect(new Set(email.map((c) => c.delivery_id)).size).toBe(2);

    const hooks = (await read<DeliveryCommand>(h.tidings.topics.deliveryWebhook, 'DeliveryCommand')).filter((c) => c.user_id === alice);
    // Only the operator's global webhook: alice has no endpoint of her own.
    expect(hooks.map((c) => [c.notification.source_id, c.webhook?.endpoint_id, c.webhook?.format]).sort()).toEqual(
      [[failed, 'global', 'slack'], [changed, 'global', 'slack'], [agent, 'global', 'slack']].sort());

    const audit = (await read<AuditEvent>(h.tidings.topics.audit, 'AuditEvent')).filter((a) => a.user_id === alice);
    expect(audit.map((a) => [a.type, a.source_id])).toEqual([['security_password_changed', changed]]);
  });

  it('sends to a user\'s webhook endpoints that take the type, and skips e-mail without an address', async () => {
    const bob = `bob-${randomUUID()}`;
    const endpoints: WebhookEndpoints = { user_id: bob, updated_at: Date.now(), endpoints: [
      { ...ENDPOINT_DEFAULTS, id: 'all', url: 'https://bob.example.test/all', format: 'generic', secret_encrypted: null, enabled: true, types: [] },
      { ...ENDPOINT_DEFAULTS, id: 'jobs', url: 'https://bob.example.test/jobs', format: 'discord', secret_encrypted: null, enabled: true, types: ['job_failed'] },
      { ...ENDPOINT_DEFAULTS, id: 'off', url: 'https://bob.example.test/off', format: 'teams', secret_encrypted: null, enabled: false, types: [] },
    ] };
    await h.tidings.publisher.publish(h.tidings.topics.webhooks, bob, endpoints);
    await waitForConsumed(h, 'router', h.tidings.topics.webhooks);

    const failed = await emit(bob, 'job_failed');
    const offline = await emit(bob, 'agent_offline');
    await routed();

    const hooks = (await read<DeliveryCommand>(h.tidings.topics.deliveryWebhook, 'DeliveryCommand')).filter((c) => c.user_id === bob && !c.webhook?.global);
    expect(hooks.map((c) => `${c.notification.source_id === failed ? 'failed' : c.notification.source_id === offline ? 'offline' : '?'} -> ${c.webhook?.endpoint_id}`).sort())
      .toEqual(['failed -> all', 'failed -> jobs', 'offline -> all']);
    const email = (await read<DeliveryCommand>(h.tidings.topics.deliveryEmail, 'DeliveryCommand')).filter((c) => c.user_id === bob);
    expect(email).toEqual([]);
  });

  it('in_app turned off for a type keeps it out of the inbox, the unread count and the WebSocket, while e-mail, other types and mandatory types still arrive', async () => {
    const erin = `erin-${randomUUID()}`;
    const token = await h.auth.sign({ userId: erin, roles: [] });
    expect((await call('PUT', '/v1/recipients/me', token, { email: 'erin@example.test' })).status).toBe(202);
    expect((await call('PUT', '/v1/preferences', token, { preferences: [
      { type: 'job_completed', in_app: false, email: true, webhook: false },
      { type: 'security_password_changed', in_app: false, email: false, webhook: false },
    ] })).status).toBe(202);
    await waitForConsumed(h, 'router', h.tidings.topics.preferences);
    await waitForConsumed(h, 'router', h.tidings.topics.recipients);
    const client = await connectClient(h.tidings.wsUrl, token);

    const ids = new Map<string, string>();
    const completed = await emit(erin, 'job_completed', ids); // in_app off
    const changed = await emit(erin, 'security_password_changed', ids); // in_app off, but mandatory
    // Events of different source keys may sit in different partitions; once dedupe
    // has accepted these two, the next one comes after them in erin's partition.
    await waitForConsumed(h, 'dedupe', h.tidings.topics.events);
    const offline = await emit(erin, 'agent_offline', ids); // in_app on by default

    // Per user, frames come in the order accepted: once the last one is here, the one turned off would have come before it.
    const frames = () => client.frames.filter((f) => f.type === 'notification').map((f) => (f.notification as { id: string }).id);
    await waitFor(() => (frames().includes(ids.get(offline)!) ? true : undefined), 'the agent_offline frame');
    expect(frames()).toEqual([ids.get(changed), ids.get(offline)]);
    client.socket.close();

    await waitUntilProcessed(h);
    const listed = (await call('GET', '/v1/notifications?limit=100', token, undefined)).body.notifications as { id: string; type: string }[];
    expect(listed.map((n) => n.type).sort()).toEqual(['agent_offline', 'security_password_changed']);
    expect((await call('GET', '/v1/notifications/unread-count', token, undefined)).body).toEqual({ unread: 2 });
    expect((await call('POST', `/v1/notifications/${ids.get(completed)}/read`, token, undefined)).status).toBe(404);

    // The decision is in the log: a rebuild of the inbox replays notification.inbox.
    const inbox = (await read<Notification>(h.tidings.topics.inbox, 'Notification')).filter((n) => n.user_id === erin);
    expect(inbox.map((n) => n.source_id)).toEqual([changed, offline]);
    const email = [
      ...await read<DeliveryCommand>(h.tidings.topics.deliveryEmail, 'DeliveryCommand'),
      ...await read<DeliveryCommand>(h.tidings.topics.deliveryEmailPriority, 'DeliveryCommand'),
    ].filter((c) => c.user_id === erin);
    expect(email.map((c) => c.notification.source_id).sort()).toEqual([completed, changed, offline].sort());
  });

  it('refuses a profile or preference body that does not fit, with reasons', async () => {
    const token = await h.auth.sign({ userId: 'carol', roles: [] });
    const bad = await call('PUT', '/v1/preferences', token, { preferences: [{ type: 'Job Failed', email: 'yes' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.reasons.length).toBeGreaterThan(0);
    expect((await call('PUT', '/v1/recipients/me', token, { time_zone: 'Mars/Olympus' })).body).toMatchObject({ error: 'TIDINGS_INVALID', reasons: ['time_zone: "Mars/Olympus" is not an IANA time zone'] });
    expect((await call('PUT', '/v1/recipients/me', token, { roles: ['admin'] })).status).toBe(403);
    expect((await call('PUT', '/v1/recipients/carol', token, { email: 'c@example.test' })).status).toBe(403);
    const admin = await h.auth.sign({ userId: 'root', roles: ['admin'] });
    expect((await call('PUT', '/v1/recipients/carol', admin, { email: 'c@example.test', roles: ['admin'] })).status).toBe(202);
    await waitFor(async () => ((await fetch(`${h.tidings.url}/openapi.json`)).status === 200 ? true : undefined), 'the OpenAPI document');
    const openapi = await (await fetch(`${h.tidings.url}/openapi.json`)).json();
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/v1/events', '/v1/preferences', '/v1/recipients/me', '/v1/recipients/{userId}']));
  });
});

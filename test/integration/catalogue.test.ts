/**
 * The catalogue on the real stack: Nexora's severities accepted over HTTP and
 * Kafka; access denials validated at ingest (400 with reasons over HTTP, dead
 * letter with reasons from Kafka), routed to the security_admin role when they
 * name nobody, audited, and POSTed to a generic global webhook as the seed's
 * DenialNotification JSON.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Kafka, logLevel } from 'kafkajs';
import type { NotificationEvent } from '../../src/model/notification.ts';
import { eventKey } from '../../src/model/notification.ts';
import { callApi, startHarness, waitFor, waitUntilProcessed, type Harness } from './harness.ts';
import { startReceiver, type Receiver } from './receivers.ts';

describe('catalogue', () => {
  let h: Harness;
  let hooks: Receiver;
  let db: pg.Client;
  let producer: string;
  const admins = [`sec-a-${randomUUID()}`, `sec-b-${randomUUID()}`];
  const bystander = `guard-${randomUUID()}`;

  beforeAll(async () => {
    hooks = await startReceiver('127.0.0.2');
    h = await startHarness({
      TIDINGS_ROLES: 'ingest,api,dedupe,router,projector,webhook',
      TIDINGS_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.2/32',
      TIDINGS_GLOBAL_WEBHOOK_URL: `${hooks.url}/global`,
      TIDINGS_GLOBAL_WEBHOOK_FORMAT: 'generic',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    });
    db = new pg.Client({ connectionString: h.endpoints.databaseUrl });
    await db.connect();
    producer = await h.auth.sign({ userId: 'producer', roles: ['producer'] });
    const admin = await h.auth.sign({ userId: 'root', roles: ['admin'] });
    for (const user of admins) expect((await callApi(h, 'PUT', `/v1/recipients/${user}`, admin, { roles: ['security_admin'] })).status).toBe(202);
    expect((await callApi(h, 'PUT', `/v1/recipients/${bystander}`, admin, { roles: ['guard'] })).status).toBe(202);
    await waitFor(() => ([...admins, bystander].every((u) => h.tidings.directory?.get(u)) ? true : undefined), 'the directory to see the profiles');
  });
  afterAll(async () => {
    await db?.end();
    await h?.stop();
    await hooks?.close();
  });

  const post = (body: Record<string, unknown>) => callApi(h, 'POST', '/v1/events', producer, body);
  const event = (overrides: Partial<NotificationEvent>): NotificationEvent => ({
    event_id: null, user_id: null, audience: null, type: 'security_alert', title: 'T', message: 'M', severity: 'info', data: null, action_url: null,
    source_type: 'test', source_id: randomUUID(), occurred_at: Date.now(), ...overrides,
  });
  /** Produces `e` as Avro straight to notification.events, under its key, as a producer that skips HTTP would. */
  const produce = (e: NotificationEvent) => h.tidings.publisher.publish(h.tidings.topics.events, eventKey(e), e);
  const rows = async (sourceId: string) => (await db.query<{ user_id: string; type: string; category: string; severity: string; data: Record<string, unknown> }>(
    'select user_id, type, category, severity, data from notifications where source_id = $1 order by user_id', [sourceId])).rows;
  const audited = async (sourceId: string) => (await db.query<{ user_id: string; type: string }>('select user_id, type from audit_log where source_id = $1 order by user_id', [sourceId])).rows;
  const denial = { checkpointCode: 'cp-1', reason: 'ACCESS_DENIED', fromZoneCode: 'zone-a', toZoneCode: 'zone-b', details: 'Zone zone-a has no configured exit to OUT' };

  it('accepts Nexora\'s severities low, medium, high and critical over HTTP and over Kafka', async () => {
    const user = `u-${randomUUID()}`;
    const severities = ['low', 'medium', 'high', 'critical'] as const;
    const http = severities.map(() => randomUUID());
    const kafka = severities.map(() => randomUUID());
    for (const [i, severity] of severities.entries()) {
      expect((await post({ user_id: user, type: 'security_alert', severity, title: 'Threat', message: 'm', source_type: 'siem', source_id: http[i] })).status).toBe(202);
      await produce(event({ user_id: user, severity, source_id: kafka[i] }));
    }
    await waitUntilProcessed(h);
    for (const [i, severity] of severities.entries()) {
      expect(await rows(http[i]!)).toEqual([{ user_id: user, type: 'security_alert', category: 'security', severity, data: {} }]);
      expect((await rows(kafka[i]!)).map((r) => r.severity)).toEqual([severity]);
    }
  });

  it('routes an access denial naming nobody to the security_admin holders, audits it, and POSTs the seed\'s JSON to the generic global webhook', async () => {
    const source = randomUUID();
    const posted = await post({ type: 'access_denied', event_id: `ev-${source}`, severity: 'high', title: 'Access denied at cp-1', message: '', source_type: 'checkpoint', source_id: source, data: denial });
    expect(posted).toMatchObject({ status: 202, body: { source_key: `checkpoint:${source}:access_denied:*` } });
    await waitUntilProcessed(h);

    const reached = await rows(source);
    expect(reached.map((r) => r.user_id)).toEqual([...admins].sort());
    expect(reached.every((r) => r.category === 'access' && r.data.reason === 'ACCESS_DENIED')).toBe(true);
    expect(await audited(source)).toEqual([...admins].sort().map((user_id) => ({ user_id, type: 'access_denied' })));

    // One per recipient's notification, as for every type: each carries the same DenialNotification, so a receiver can drop repeats by eventId.
    const received = await waitFor(() => {
      const got = hooks.at('/global').filter((r) => r.body.includes(source));
      return got.length === admins.length ? got : undefined;
    }, 'the global webhook\'s copies');
    for (const r of received) {
      const body = JSON.parse(r.body) as { type: string; data: Record<string, unknown> };
      expect(body.type).toBe('access_denied');
      expect(body.data).toEqual({
        eventId: `ev-${source}`, checkpointId: null, checkpointCode: 'cp-1', userId: null, userCode: null, fromZoneId: null, fromZoneCode: 'zone-a',
        toZoneId: null, toZoneCode: 'zone-b', reason: 'ACCESS_DENIED', details: 'Zone zone-a has no configured exit to OUT', timestamp: expect.any(Number),
      });
    }
  });

  it('refuses invalid access denials and approvals over HTTP with 400 and every reason', async () => {
    const base = { type: 'access_denied', title: 'Denied', message: '', source_type: 'checkpoint', source_id: randomUUID() };
    expect(await post({ ...base, data: { reason: 'BECAUSE' } })).toMatchObject({ status: 400, body: { reasons: [
      'data.checkpointCode: required',
      'data.reason: must be one of SIGNATURE_INVALID, TOKEN_INVALID, REPLAY, ACCESS_DENIED, STATE_MISMATCH, INTERNAL_ERROR',
    ] } });
    expect(await post({ ...base, data: { ...denial, checkpointId: 'not-a-uuid' } })).toMatchObject({ status: 400, body: { reasons: ['data.checkpointId: must be a UUID'] } });
    expect(await post({ user_id: 'u1', type: 'workflow_approval', title: 'Approve', message: '', source_type: 'workflow', source_id: randomUUID(), data: { approval_id: 'a1', step: 'Rotate' } }))
      .toMatchObject({ status: 400, body: { reasons: ['data.respond_by: required'] } });
    await waitUntilProcessed(h);
    expect(await rows(base.source_id)).toEqual([]);
  });

  it('dead-letters an invalid access denial produced to Kafka with the reasons, and routes a valid one', async () => {
    const bad = event({ type: 'access_denied', user_id: admins[0]!, data: JSON.stringify({ checkpointCode: 'cp-9', reason: 'NOPE' }) });
    const good = event({ type: 'access_denied', user_id: admins[1]!, severity: 'medium', data: JSON.stringify(denial) });
    await produce(bad);
    await produce(good);
    const kafka = new Kafka({ clientId: 'catalogue-dlq', brokers: h.endpoints.kafkaBrokers, logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `${h.id}-catalogue-dlq` });
    const dead: { key: string | undefined; headers: Record<string, string> }[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: h.tidings.topics.eventsDlq, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => {
        dead.push({ key: message.key?.toString(), headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])) });
      } });
      const letter = await waitFor(() => dead.find((d) => d.key === eventKey(bad)), 'the dead letter');
      expect(letter.headers['x-tidings-error-reason']).toContain('data.reason: must be one of SIGNATURE_INVALID, TOKEN_INVALID, REPLAY, ACCESS_DENIED, STATE_MISMATCH, INTERNAL_ERROR');
    } finally {
      await consumer.disconnect();
    }
    await waitUntilProcessed(h);
    expect(await rows(bad.source_id)).toEqual([]);
    expect((await rows(good.source_id)).map((r) => [r.user_id, r.severity])).toEqual([[admins[1], 'medium']]);
    expect(await audited(good.source_id)).toEqual([{ user_id: admins[1], type: 'access_denied' }]);
  });

  // Needs dedupe to apply withCatalogueDefaults after validation (src/processors/dedupe/decide.ts); until then such an event reaches nobody.
  it('routes an access denial produced to Kafka naming nobody to the security_admin holders', async () => {
    const nobody = event({ type: 'access_denied', data: JSON.stringify(denial) });
    await produce(nobody);
    await waitUntilProcessed(h);
    expect((await rows(nobody.source_id)).map((r) => r.user_id)).toEqual([...admins].sort());
  });
});

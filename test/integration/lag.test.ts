/**
 * The lag monitor on the real broker, graded as Burrow grades: a healthy
 * pipeline reads OK; groups of this test's own, named `<prefix>tidings.lagtest-…`
 * on a topic of their own, are brought into STOP, STALL, REWIND and WARN.
 * The monitor samples every 100 ms over windows of 5; /health, /health/kafka
 * and /health/kafka/detailed are served by a fastify of the test's own, as
 * src/tidings.ts will serve them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { Kafka, logLevel, type Admin, type Consumer, type Producer } from 'kafkajs';
import { createKafka, createTopicsAndWait } from '../../src/kafka/client.ts';
import { createLogger } from '../../src/logger.ts';
import { createLagMonitor, type GroupLag, type LagMonitor } from '../../src/health/lag-monitor.ts';
import { kafkaCheck, kafkaDetailedRoutes } from '../../src/health/kafka-check.ts';
import { healthRoutes } from '../../src/health/routes.ts';
import { groupId } from '../../src/topology.ts';
import { tiersOf } from '../../src/config.ts';
import { lagTable } from '../../src/cli/lag.ts';
import { callApi, isolatedSettings, startWith, waitFor, waitUntilProcessed, type Harness } from './harness.ts';
import { runTidings } from './tidings-process.ts';

describe('consumer lag graded like Burrow', () => {
  let h: Harness;
  let env: Record<string, string>;
  let lag: LagMonitor;
  let app: FastifyInstance;
  let admin: Admin;
  let producer: Producer;
  let test: Kafka;
  let topic: string;
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    const settings = await isolatedSettings();
    env = settings.env;
    h = await startWith(settings);
    const log = createLogger('error');
    const kafka = createKafka({ brokers: h.endpoints.kafkaBrokers, clientId: 'lag-test', log });
    lag = createLagMonitor({ kafka, prefix: h.config.topicPrefix, tiers: tiersOf(h.config), intervalMs: 100, window: 5, log });
    lag.start();
    app = Fastify();
    await app.register(healthRoutes, { checks: [kafkaCheck({ kafka, lag })], isReady: () => true });
    await app.register(kafkaDetailedRoutes, { lag });
    await app.ready();
    test = new Kafka({ clientId: 'lag-test-client', brokers: h.endpoints.kafkaBrokers, logLevel: logLevel.NOTHING });
    admin = test.admin();
    producer = test.producer();
    await Promise.all([admin.connect(), producer.connect()]);
    topic = `${h.config.topicPrefix}lagtest`;
    await createTopicsAndWait(admin, [{ topic, numPartitions: 1, replicationFactor: 1 }]);
  });

  afterAll(async () => {
    for (const c of consumers) await c.disconnect();
    await producer?.disconnect();
    await admin?.disconnect();
    await lag?.stop();
    await app?.close();
    await h?.stop();
  });

  const produce = (count: number) => producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ value: `record ${i}` })) });
  const commit = (group: string, offset: number) => admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: String(offset) }] });
  const group = (id: string): GroupLag | undefined => lag.snapshot().groups.find((g) => g.group === id);
  /** A live member of `id` on the test's topic that reads and commits nothing by itself (the test commits for it). */
  const member = async (id: string): Promise<Consumer> => {
    const consumer = test.consumer({ groupId: id, sessionTimeout: 6_000 });
    consumers.push(consumer);
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.connect();
    await consumer.subscribe({ topic });
    await consumer.run({ autoCommit: false, eachMessage: async () => undefined });
    await joined;
    return consumer;
  };
  const lagtest = (name: string) => `${h.config.topicPrefix}tidings.lagtest-${name}`;
  /** Waits until the partition of `id` on the test's topic has `status`; `step` runs before each look. */
  const reach = (id: string, status: string, step: () => Promise<unknown> = async () => undefined) => waitFor(async () => {
    await step();
    const found = group(id);
    return found?.partitions.find((p) => p.topic === topic && p.status === status) ? found : undefined;
  }, `${id} to read ${status}`);

  it('given a pipeline that processed its events, when sampled, then every group reads OK at lag 0 and /health has the seed\'s format', async () => {
    const token = await h.auth.sign({ userId: 'svc', roles: ['producer'] });
    for (let i = 0; i < 3; i++) {
      expect((await callApi(h, 'POST', '/v1/events', token, { user_id: `u${i}`, type: 'job_completed', title: 'Done', message: 'm', source_type: 'job', source_id: randomUUID() })).status).toBe(202);
    }
    await waitUntilProcessed(h);
    const dedupe = groupId('dedupe', h.config.topicPrefix);
    const router = groupId('router', h.config.topicPrefix);
    // Both read topics written in transactions: the commit marker after the last record is not lag.
    const settled = await waitFor(() => {
      const groups = lag.snapshot().groups;
      const graded = [dedupe, router].every((id) => {
        const partitions = groups.find((g) => g.group === id)?.partitions.filter((p) => p.committed !== null) ?? [];
        return partitions.length > 0 && partitions.every((p) => p.complete === 1 && p.lag === '0');
      });
      return graded ? groups : undefined;
    }, 'dedupe and router graded at lag 0');
    expect(settled.every((g) => g.status === 'OK')).toBe(true);

    const kafkaHealth = await app.inject({ method: 'GET', url: '/health/kafka' });
    expect(kafkaHealth.statusCode).toBe(200);
    const body = kafkaHealth.json();
    expect(body).toMatchObject({ healthy: true, brokers: 1, message: 'All consumers healthy', window: 5, interval_ms: 100 });
    expect(body.groups[dedupe]).toMatchObject({ status: 'OK', state: 'Stable', members: 1, total_lag: '0' });
    expect(body.groups[router].max_lag).toMatchObject({ lag: '0', status: 'OK' });

    const health = await app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({ status: 'healthy', ready: true, version: expect.stringMatching(/^\d+\.\d+\.\d+/), checks: { kafka: { healthy: true } } });
    expect(new Date(health.json().timestamp).toISOString()).toBe(health.json().timestamp);
    expect(Number.isInteger(health.json().uptime)).toBe(true);

    const detailed = (await app.inject({ method: 'GET', url: '/health/kafka/detailed' })).json();
    const partition = detailed.groups.find((g: { group: string }) => g.group === dedupe).partitions.find((p: { committed_offset: string | null }) => p.committed_offset !== null);
    expect(partition).toMatchObject({ status: 'OK', complete: 1, lag: '0' });
    expect(partition.window).toHaveLength(5);
    expect(partition.owners).toHaveLength(1);
  });

  it('given a group that committed once and has no members while records keep arriving, when sampled, then STOP and /health/kafka answers 503', async () => {
    const id = lagtest('stopped');
    await produce(5);
    await commit(id, 2);
    const stopped = await reach(id, 'STOP', () => produce(1));
    expect(stopped).toMatchObject({ status: 'ERR', members: 0 });
    expect(BigInt(stopped.totalLag)).toBeGreaterThan(0n);

    const answer = await app.inject({ method: 'GET', url: '/health/kafka' });
    expect(answer.statusCode).toBe(503);
    expect(answer.json()).toMatchObject({ healthy: false, error: expect.stringContaining(id) });
    expect(answer.json().groups[id]).toMatchObject({ status: 'ERR', max_lag: { topic, partition: 0, status: 'STOP' } });
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(503);
    expect((await app.inject({ method: 'GET', url: '/health/kafka/detailed' })).statusCode).toBe(503);
  });

  it('given a live member that keeps its committed offset while lag > 0, when sampled, then STALL', async () => {
    const id = lagtest('stalled');
    await commit(id, 1);
    await member(id);
    const stalled = await reach(id, 'STALL', () => produce(1));
    expect(stalled.status).toBe('ERR');
    expect(stalled.members).toBe(1);
    expect(stalled.partitions[0]!.owners).toHaveLength(1);
  });

  it('given a committed offset moved backwards, when sampled, then REWIND', async () => {
    const id = lagtest('rewound');
    await produce(20);
    const consumer = await member(id);
    await consumer.commitOffsets([{ topic, partition: 0, offset: '10' }]);
    await waitFor(() => (group(id)?.partitions[0]?.committed === '10' ? true : undefined), `${id} sampled at 10`);
    await consumer.commitOffsets([{ topic, partition: 0, offset: '3' }]);
    const rewound = await reach(id, 'REWIND');
    expect(rewound.status).toBe('ERR');
  });

  it('given a group that commits while its lag keeps growing, when sampled, then WARN', async () => {
    const id = lagtest('behind');
    const consumer = await member(id);
    let offset = 0;
    await produce(5);
    // Each step commits one record further and adds five: the lag grows by four a step.
    const behind = await reach(id, 'WARN', async () => {
      await consumer.commitOffsets([{ topic, partition: 0, offset: String(++offset) }]);
      await produce(5);
    });
    expect(behind).toMatchObject({ status: 'WARN', members: 1 });
    const answer = await app.inject({ method: 'GET', url: '/health/kafka' });
    expect(answer.json().groups[id]).toMatchObject({ status: 'WARN' });
  });

  it('given the groups above, when `tidings lag` runs, then it prints the kafka-consumer-groups table with a STATUS column', async () => {
    const table = lagTable(lag.snapshot());
    expect(table).toMatch(/^GROUP\s+TOPIC\s+PARTITION\s+CURRENT-OFFSET\s+LOG-END-OFFSET\s+LAG\s+CONSUMER-ID\s+HOST\s+CLIENT-ID\s+STATUS$/m);
    expect(table).toMatch(new RegExp(`^${lagtest('stopped').replace(/\./g, '\\.')}\\s+${topic.replace(/\./g, '\\.')}\\s+0\\s+2\\s+\\d+\\s+\\d+\\s+-\\s+-\\s+-\\s+STOP$`, 'm'));

    const printed = await runTidings(['lag', '--rounds', '3', '--interval', '100'], env);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toMatch(new RegExp(`^${lagtest('stalled').replace(/\./g, '\\.')}\\s+${topic.replace(/\./g, '\\.')}\\s+0\\s+1\\s+\\d+\\s+\\d+\\s+\\S+\\s+\\S+\\s+lag-test-client\\s+STALL$`, 'm'));
    expect(printed.stdout).toMatch(new RegExp(`^${lagtest('stopped').replace(/\./g, '\\.')}\\s+Empty\\s+0\\s+ERR`, 'm'));
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { Gauge, register as globalRegistry, type Metric } from 'prom-client';
import { createMetrics, processorMeter, type Metrics } from '../../src/metrics.ts';
import { createHttpServer, routeLabel, UNMATCHED_ROUTE } from '../../src/api/server.ts';
import { metricsRoutes } from '../../src/api/metrics.ts';
import { createAuthenticator } from '../../src/auth.ts';
import { createLogger } from '../../src/logger.ts';
import { createConnections } from '../../src/websocket/connections.ts';
import type { NotificationFrame } from '../../src/websocket/protocol.ts';

/** The value of one series of a counter or gauge, or of a histogram's `_count`; undefined when it has none. */
async function valueOf(metric: Metric, labels: Record<string, string> = {}, sample?: string): Promise<number | undefined> {
  const { values } = await metric.get();
  const want = JSON.stringify(Object.entries(labels).sort());
  return values.find((v) => (sample === undefined || (v as { metricName?: string }).metricName === sample) && JSON.stringify(Object.entries(v.labels).sort()) === want)?.value;
}

describe('createMetrics', () => {
  it('gives every Tidings a registry of its own, none in prom-client\'s global one', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.deliveries.inc({ channel: 'email', outcome: 'sent' });
    expect(await valueOf(a.deliveries, { channel: 'email', outcome: 'sent' })).toBe(1);
    expect(await valueOf(b.deliveries, { channel: 'email', outcome: 'sent' })).toBeUndefined();
    expect(globalRegistry.getMetricsAsArray().map((m) => m.name).filter((name) => name.startsWith('tidings_'))).toEqual([]);
    expect(await a.scrape()).toContain('tidings_process_cpu_user_seconds_total');
  });

  it('names counters _total and durations in seconds, every name under tidings_', async () => {
    const names = createMetrics().registry.getMetricsAsArray().map((m) => m.name);
    expect(names.filter((name) => !name.startsWith('tidings_'))).toEqual([]);
    const types = await createMetrics({ defaultMetrics: false }).registry.getMetricsAsJSON();
    for (const { name, type } of types) {
      if (String(type) === 'counter') expect(name).toMatch(/_total$/);
      if (String(type) === 'histogram') expect(name).toMatch(/_seconds$/);
    }
  });

  it('runs each collector before a scrape, so gauges added later (consumer lag) show their latest values', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const lag = new Gauge({ name: 'tidings_consumer_lag', help: 'lag', labelNames: ['group', 'topic', 'partition'], registers: [metrics.registry] });
    let sampled = 0;
    metrics.addCollector(async () => {
      sampled += 1;
      lag.reset();
      lag.set({ group: 'tidings.router', topic: 'notification.accepted', partition: '0' }, 7 * sampled);
    });
    await metrics.scrape();
    const text = await metrics.scrape();
    expect(sampled).toBe(2);
    expect(text).toContain('tidings_consumer_lag{group="tidings.router",topic="notification.accepted",partition="0"} 14');
  });
});

describe('processorMeter', () => {
  it('given a processor that started, when nothing was written yet, then its series are there at 0', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    processorMeter(metrics, 'router');
    const { records, skipped, deadLetters, batches } = metrics.processor;
    for (const [what, counter] of Object.entries({ records, skipped, deadLetters, batches })) expect(await valueOf(counter, { processor: 'router' }), what).toBe(0);
    expect(await valueOf(metrics.processor.batchDuration, { processor: 'router' }, 'tidings_processor_batch_duration_seconds_count')).toBe(0);
  });

  it('given written batches, then it adds their records, skips, dead letters and outputs by kind, and one duration each', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const meter = processorMeter(metrics, 'dedupe');
    meter.written({ records: 3, skipped: 1, deadLetters: 0, outputs: { accepted: 3, remember: 3 }, seconds: 0.02 });
    meter.written({ records: 0, skipped: 0, deadLetters: 1, outputs: {}, seconds: 0.5 });
    const p = metrics.processor;
    const dedupe = { processor: 'dedupe' };
    expect(await valueOf(p.records, dedupe)).toBe(3);
    expect(await valueOf(p.skipped, dedupe)).toBe(1);
    expect(await valueOf(p.deadLetters, dedupe)).toBe(1);
    expect(await valueOf(p.batches, dedupe)).toBe(2);
    expect(await valueOf(p.outputs, { ...dedupe, kind: 'accepted' })).toBe(3);
    expect(await valueOf(p.batchDuration, dedupe, 'tidings_processor_batch_duration_seconds_count')).toBe(2);
    expect(await valueOf(p.batchDuration, dedupe, 'tidings_processor_batch_duration_seconds_sum')).toBeCloseTo(0.52);
  });
});

describe('routeLabel', () => {
  it('is the route\'s pattern, or one label for every request that matched none', () => {
    expect(routeLabel('/v1/notifications/:id/read')).toBe('/v1/notifications/:id/read');
    expect(routeLabel(undefined)).toBe(UNMATCHED_ROUTE);
  });
});

describe('HTTP request durations and GET /metrics', () => {
  let app: FastifyInstance;
  let metrics: Metrics;

  beforeAll(async () => {
    metrics = createMetrics({ defaultMetrics: false });
    const sink = new Writable({ write(_chunk, _encoding, done) { done(); } });
    app = await createHttpServer({ log: createLogger('error', sink), auth: createAuthenticator({ secret: 'a-test-secret-of-at-least-32-characters' }), metrics });
    await app.register(metricsRoutes, { metrics });
    app.get('/v1/things/:id', async () => ({ ok: true }));
    await app.ready();
  });
  afterAll(async () => app?.close());

  it('observes each response under its method, route pattern and status code', async () => {
    for (const id of ['a', 'b']) expect((await app.inject({ method: 'GET', url: `/v1/things/${id}?x=1` })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/v1/nothing/here' })).statusCode).toBe(404);
    const duration = metrics.http.requestDuration;
    const count = 'tidings_http_request_duration_seconds_count';
    expect(await valueOf(duration, { method: 'GET', route: '/v1/things/:id', status_code: '200' }, count)).toBe(2);
    expect(await valueOf(duration, { method: 'GET', route: UNMATCHED_ROUTE, status_code: '404' }, count)).toBe(1);
    const routes = (await duration.get()).values.map((v) => v.labels.route);
    expect(routes.filter((route) => String(route).includes('/a') || String(route).includes('?'))).toEqual([]);
  });

  it('serves the registry in the Prometheus text format', async () => {
    metrics.deliveries.inc({ channel: 'webhook', outcome: 'retrying' }, 2);
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(metrics.contentType);
    expect(response.body).toContain('# TYPE tidings_deliveries_total counter');
    expect(response.body).toContain('tidings_deliveries_total{channel="webhook",outcome="retrying"} 2');
  });
});

/** Just what createConnections uses of a ws socket. */
function fakeSocket(bufferedAmount = 0) {
  const socket = { OPEN: 1, readyState: 1, bufferedAmount, sent: [] as string[], closed: undefined as number | undefined, terminated: false,
    send(text: string) { socket.sent.push(text); },
    close(code: number) { socket.closed = code; socket.readyState = 3; },
    terminate() { socket.terminated = true; socket.readyState = 3; } };
  return socket;
}

describe('createConnections with metrics', () => {
  const frame = { type: 'notification' } as NotificationFrame;

  it('keeps the open-socket gauge to what it holds, and counts sockets opened, frames sent by type and slow clients dropped', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const ws = metrics.websocket;
    const connections = createConnections({ perUser: 2, maxBufferedBytes: 1_000 }, metrics);
    const [a, b, slow, third] = [fakeSocket(), fakeSocket(), fakeSocket(5_000), fakeSocket()];
    connections.add('alice', a as unknown as WebSocket);
    connections.add('alice', b as unknown as WebSocket);
    connections.add('bob', slow as unknown as WebSocket);
    expect(await valueOf(ws.connections)).toBe(3);

    expect(connections.send('alice', frame)).toBe(2);
    expect(connections.send('bob', frame)).toBe(0);
    expect(slow.terminated).toBe(true);
    expect(await valueOf(ws.slowClientCloses)).toBe(1);
    expect(await valueOf(ws.framesSent, { type: 'notification' })).toBe(2);
    expect(await valueOf(ws.connections)).toBe(2);

    // One more than the cap closes alice's oldest: still two open.
    connections.add('alice', third as unknown as WebSocket);
    expect(a.closed).toBe(4008);
    expect(await valueOf(ws.connections)).toBe(2);
    expect(await valueOf(ws.opened)).toBe(4);

    connections.closeAll(1001, 'bye');
    expect(await valueOf(ws.connections)).toBe(0);
  });
});

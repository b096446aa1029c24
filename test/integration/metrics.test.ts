/**
 * GET /metrics on the real stack: events go through dedupe, the router, the
 * projector, the gateway (to a WebSocket client) and the e-mail lane (to the
 * stack's mail catcher); then the scrape is parsed by the Prometheus
 * project's own text-format parser (prometheus_client, the official Python
 * client, installed from PyPI under .cache/python-prometheus on first use) and
 * each counter is held to how much it had to move.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type WebSocket from 'ws';
import { createCodec } from '../../src/kafka/codec.ts';
import type { DeliveryResult } from '../../src/model/routing.ts';
import { UNMATCHED_ROUTE } from '../../src/api/server.ts';
import { groupId } from '../../src/topology.ts';
import { callApi, connectClient, readTopic, startHarness, waitFor, waitForConsumed, waitUntilProcessed, type Harness } from './harness.ts';

const PYTHON_DIR = join(import.meta.dirname, '..', '..', '.cache', 'python-prometheus');
const EVENTS = 3;
const PROCESSORS = ['dedupe', 'router', 'projector', 'gateway', 'email'];

/** prometheus_client's parser: the exposition on stdin, its families as JSON on stdout (non-finite values as text). */
const PARSE = `
import json, math, sys
from prometheus_client.parser import text_string_to_metric_families
print(json.dumps([{"name": f.name, "type": f.type, "samples": [
  {"name": s.name, "labels": s.labels, "value": s.value if math.isfinite(s.value) else str(s.value)} for s in f.samples]}
  for f in text_string_to_metric_families(sys.stdin.read())]))
`;

interface Family { name: string; type: string; samples: { name: string; labels: Record<string, string>; value: number | string }[] }

function ensureParser(): void {
  const probe = () => spawnSync('python3', ['-c', 'import prometheus_client.parser'], { env: { ...process.env, PYTHONPATH: PYTHON_DIR } }).status === 0;
  if (existsSync(PYTHON_DIR) && probe()) return;
  execFileSync('python3', ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--target', PYTHON_DIR, 'prometheus-client==0.26.0'], { stdio: 'inherit' });
  if (!probe()) throw new Error('prometheus_client did not import after installing it');
}

function parse(text: string): Family[] {
  const out = execFileSync('python3', ['-c', PARSE], { input: text, env: { ...process.env, PYTHONPATH: PYTHON_DIR } });
  return JSON.parse(out.toString()) as Family[];
}

/** The value of the sample named `name` whose labels are exactly `labels`; undefined when there is none. */
function value(families: Family[], name: string, labels: Record<string, string> = {}): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  for (const family of families) {
    for (const s of family.samples) if (s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want) return Number(s.value);
  }
  return undefined;
}

describe('GET /metrics', () => {
  let h: Harness;
  let client: { socket: WebSocket; frames: Record<string, unknown>[] };
  let userToken: string;
  const user = `u-${randomUUID()}`;
  const address = `${randomUUID()}@example.test`;

  const scrape = async () => {
    const response = await fetch(`${h.tidings.url}/metrics`);
    expect(response.status).toBe(200);
    return { contentType: response.headers.get('content-type'), families: parse(await response.text()) };
  };

  beforeAll(async () => {
    ensureParser();
    h = await startHarness({ TIDINGS_ROLES: 'ingest,api,dedupe,router,projector,gateway,email', TIDINGS_EMAIL_RATE_PER_SECOND: '0', TIDINGS_LAG_INTERVAL_MS: '200', TIDINGS_LAG_WINDOW: '3' });
    const admin = await h.auth.sign({ userId: 'root', roles: ['admin'] });
    const producer = await h.auth.sign({ userId: 'svc', roles: ['producer'] });
    userToken = await h.auth.sign({ userId: user, roles: [] });
    expect((await callApi(h, 'PUT', `/v1/recipients/${user}`, admin, { email: address, display_name: 'Alice', locale: 'en' })).status).toBe(202);
    await waitForConsumed(h, 'router', h.tidings.topics.recipients);
    client = await connectClient(h.tidings.wsUrl, userToken);
    // job_failed is of error severity: in the inbox, on the socket, and e-mailed by default.
    for (let i = 0; i < EVENTS; i++) {
      const posted = await callApi(h, 'POST', '/v1/events', producer, { user_id: user, type: 'job_failed', title: `Job ${i} failed`, message: 'exit 1', source_type: 'job', source_id: randomUUID() });
      expect(posted.status).toBe(202);
    }
    await waitFor(() => (client.frames.filter((f) => f.type === 'notification').length >= EVENTS ? true : undefined), `${EVENTS} notification frames`);
    await waitUntilProcessed(h);
    await waitForConsumed(h, 'email', h.tidings.topics.deliveryEmail);
  });
  afterAll(async () => {
    client?.socket.close();
    await h?.stop();
  });

  it('counts what each processor, the socket, the e-mail lane and the HTTP routes did, in the Prometheus text format', async () => {
    const notification = client.frames.find((f) => f.type === 'notification')?.notification as { id: string };
    expect((await callApi(h, 'POST', `/v1/notifications/${notification.id}/read`, userToken)).status).toBe(202);
    expect((await fetch(`${h.tidings.url}/no-such-route`)).status).toBe(404);

    const requests = (families: Family[], method: string, route: string, status: number) =>
      value(families, 'tidings_http_request_duration_seconds_count', { method, route, status_code: String(status) });
    // Counters move right after the commit (or the response) that the waits above saw: scraped until the last of them has.
    const { contentType, families } = await waitFor(async () => {
      const scraped = await scrape();
      const f = scraped.families;
      const moved = PROCESSORS.every((processor) => (value(f, 'tidings_processor_records_total', { processor }) ?? 0) >= EVENTS)
        && value(f, 'tidings_deliveries_total', { channel: 'email', outcome: 'sent' }) === EVENTS
        && requests(f, 'POST', '/v1/notifications/:id/read', 202) === 1 && requests(f, 'GET', UNMATCHED_ROUTE, 404) === 1;
      return moved ? scraped : undefined;
    }, 'the counters to move');
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);

    for (const processor of PROCESSORS) {
      const labels = { processor };
      expect(value(families, 'tidings_processor_records_total', labels), processor).toBeGreaterThanOrEqual(EVENTS);
      expect(value(families, 'tidings_processor_dead_letters_total', labels), processor).toBe(0);
      expect(value(families, 'tidings_processor_records_skipped_total', labels), processor).toBe(0);
      const batches = value(families, 'tidings_processor_batches_total', labels)!;
      expect(batches, processor).toBeGreaterThanOrEqual(1);
      // One observation per written batch.
      expect(value(families, 'tidings_processor_batch_duration_seconds_count', labels), processor).toBe(batches);
      expect(value(families, 'tidings_processor_batch_duration_seconds_bucket', { ...labels, le: '+Inf' }), processor).toBe(batches);
    }
    // The gateway starts at the end of notification.inbox and notification.reads, and the recipient's profile is no inbox
    // record: exactly the events and the one read above (each also an unread count to send).
    expect(value(families, 'tidings_processor_records_total', { processor: 'gateway' })).toBe(EVENTS + 1);
    expect(value(families, 'tidings_processor_outputs_total', { processor: 'gateway', kind: 'push' })).toBe(EVENTS);
    expect(value(families, 'tidings_processor_outputs_total', { processor: 'gateway', kind: 'count' })).toBe(EVENTS + 1);
    // The router read the profile as well.
    expect(value(families, 'tidings_processor_records_total', { processor: 'router' })).toBeGreaterThanOrEqual(EVENTS + 1);
    // A processor of another role is not there at all.
    expect(value(families, 'tidings_processor_records_total', { processor: 'webhook' })).toBeUndefined();

    // One per committed result: the same as notification.delivery.results holds.
    const codec = createCodec(h.endpoints.schemaRegistryUrl);
    const results = (await readTopic(h.endpoints.kafkaBrokers, h.tidings.topics.deliveryResults, (v) => codec.decode('DeliveryResult', v)))
      .map((r) => r.value).filter((r): r is DeliveryResult => r !== null);
    expect(results.filter((r) => r.outcome === 'sent')).toHaveLength(EVENTS);
    expect(value(families, 'tidings_deliveries_total', { channel: 'email', outcome: 'sent' })).toBe(EVENTS);
    for (const outcome of ['failed', 'retrying', 'dead', 'skipped']) expect(value(families, 'tidings_deliveries_total', { channel: 'email', outcome }), outcome).toBe(0);

    expect(value(families, 'tidings_websocket_connections')).toBe(1);
    expect(value(families, 'tidings_websocket_connections_opened_total')).toBe(1);
    expect(value(families, 'tidings_websocket_frames_sent_total', { type: 'connection' })).toBe(1);
    expect(value(families, 'tidings_websocket_frames_sent_total', { type: 'notification' })).toBe(EVENTS);
    expect(value(families, 'tidings_websocket_slow_client_closes_total')).toBe(0);

    // By route pattern, never by raw URL.
    expect(requests(families, 'POST', '/v1/events', 202)).toBe(EVENTS);
    expect(requests(families, 'PUT', '/v1/recipients/:userId', 202)).toBe(1);
    expect(requests(families, 'POST', '/v1/notifications/:id/read', 202)).toBe(1);
    expect(requests(families, 'GET', UNMATCHED_ROUTE, 404)).toBe(1);
    const http = families.find((f) => f.name === 'tidings_http_request_duration_seconds')!;
    expect(http.type).toBe('histogram');
    expect(http.samples.filter((s) => s.labels.route?.includes(notification.id) || s.labels.route?.includes(user))).toEqual([]);

    // prom-client's process and Node.js metrics, under the same prefix.
    expect(families.find((f) => f.name === 'tidings_process_cpu_user_seconds')?.type).toBe('counter');
    expect(families.find((f) => f.name === 'tidings_nodejs_eventloop_lag_seconds')?.type).toBe('gauge');
    // Naming: every family is Tidings', every counter sample ends in _total.
    expect(families.filter((f) => !f.name.startsWith('tidings_')).map((f) => f.name)).toEqual([]);
    const counterSamples = families.filter((f) => f.type === 'counter').flatMap((f) => f.samples.map((s) => s.name));
    expect(counterSamples.filter((name) => !name.endsWith('_total'))).toEqual([]);
  });

  it('shows the lag monitor\'s last sample: lag and status per group and partition', async () => {
    const router = groupId('router', h.config.topicPrefix);
    // The monitor's first round ran at start; a later one sees the router caught up on notification.accepted.
    const routerLag = (f: Family[]) => f.find((m) => m.name === 'tidings_consumer_lag')?.samples.filter((s) => s.labels.group === router && s.labels.topic === h.tidings.topics.accepted) ?? [];
    // Caught up means lag 0 once the monitor has read the commit marker after the router's last record (a round later).
    const families = await waitFor(async () => {
      const f = (await scrape()).families;
      const caughtUp = routerLag(f).length > 0 && routerLag(f).every((s) => s.value === 0);
      return value(f, 'tidings_consumer_group_status', { group: router, status: 'OK' }) === 1 && caughtUp ? f : undefined;
    }, 'the router group graded OK at lag 0');
    for (const status of ['WARN', 'ERR']) expect(value(families, 'tidings_consumer_group_status', { group: router, status }), status).toBe(0);
    expect(routerLag(families).length).toBeGreaterThan(0);
    const statuses = families.find((f) => f.name === 'tidings_consumer_partition_status')!.samples.filter((s) => s.labels.group === router && s.value === 1);
    expect(new Set(statuses.map((s) => s.labels.status))).toEqual(new Set(['OK']));
  });

  it('counts the scrape itself once it has answered', async () => {
    const before = value((await scrape()).families, 'tidings_http_request_duration_seconds_count', { method: 'GET', route: '/metrics', status_code: '200' }) ?? 0;
    const after = value((await scrape()).families, 'tidings_http_request_duration_seconds_count', { method: 'GET', route: '/metrics', status_code: '200' });
    expect(after).toBe(before + 1);
  });
});

/**
 * The WebSocket gateway under many idle sockets (issue 12), printed, not
 * asserted. Tidings runs as its own process (`tidings start`) on the local
 * stack, its inspector on a free port of 127.0.0.1 so that this process can
 * collect its garbage and read process.memoryUsage(). This process opens
 * `sockets` WebSockets to /v1/ws, one per user (user-0, user-1, …, spread
 * over every partition), from source addresses 127.0.0.2–127.0.0.9 (ephemeral
 * ports per address), and prints what an idle socket costs the Tidings
 * process: RSS (/proc/<pid>/status VmRSS) and heap, each after a GC once the
 * figures hold steady, before the sockets, with half of them open and with
 * all; the second half's cost per socket leaves out one-time costs (code
 * compiled, memory freed at start and reused). Then it publishes
 * Avro events to notification.events at `rate` per second for `seconds`,
 * round-robin over the users, and prints publish → `notification` frame
 * latency, split at the notification.inbox record (its CreateTime, read
 * uncommitted), frames received against published, and the machine's load
 * average (the latency of a busy machine says little about Tidings). Usage:
 *   npx tsx bench/gateway.ts [<sockets> <rate> <seconds>]   (defaults 10000 1000 20)
 */
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { createLogger } from '../src/logger.ts';
import { createAuthenticator } from '../src/auth.ts';
import { createCodec } from '../src/kafka/codec.ts';
import { createKafka, createProducer } from '../src/kafka/client.ts';
import type { NotificationEvent } from '../src/model/notification.ts';
import {
  childSettings, spawnTidings, waitReady, waitFor, warmUp, encodeEvents, publishAtRate, publishedLine, waitArrivals,
  quantile, highest, count, ms, describeExit, lastOutput, openSocket, type TidingsChild,
} from './child.ts';

const SOCKETS = Number(process.argv[2] ?? 10_000);
const RATE = Number(process.argv[3] ?? 1_000); // events/s
const SECONDS = Number(process.argv[4] ?? 20);
const PARTITIONS = 6;
const SOURCE_ADDRESSES = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`);
const OPENING = 200; // upgrades in flight at once
const WARM_UP = 60; // events before the measurement, across the partitions
const STALL = 30_000; // ms without a new frame before giving up
const STEADY = 0.005; // two readings this close (relative) count as steady
const GOALS = { bytesPerSocket: 8 * 1024, p99: 50 }; // bytes, ms

// The inspector goes on a free port; BENCH_NODE_ARGS may add more (a profiler, say).
process.env.BENCH_NODE_ARGS = `${process.env.BENCH_NODE_ARGS ?? ''} --inspect=127.0.0.1:0`;
const settings = await childSettings({ TIDINGS_PARTITIONS: String(PARTITIONS) });
const { topics, endpoints } = settings;
const kafka = createKafka({ brokers: endpoints.kafkaBrokers, clientId: 'bench-gateway', log: createLogger('silent') });
const codec = createCodec(endpoints.schemaRegistryUrl);
const users = Array.from({ length: SOCKETS }, (_, i) => `user-${i}`);
const event = (userId: string, sourceId: string): NotificationEvent => ({
  event_id: null, user_id: userId, audience: null, type: 'job_completed', title: 'Build finished', message: 'All 3 tasks finished',
  severity: 'info', data: null, action_url: null, source_type: 'bench', source_id: sourceId, occurred_at: Date.now(),
});

const child = spawnTidings(settings);
const sockets: WebSocket[] = [];
const producer = createProducer(kafka, {});
const tap = kafka.consumer({ groupId: `bench-gateway-tap-${settings.id}`, readUncommitted: true });
let inspector: Inspector | undefined;
try {
  await waitReady(child, settings.url).catch((err: Error) => { throw new Error(`${err.message}\n${lastOutput(child)}`); });
  await codec.register([{ topic: topics.events, schema: 'NotificationEvent' }]);
  await producer.connect();
  inspector = await openInspector(child);

  // Publish time per source id; the frame's latency once its notification arrives.
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const received = new Set<string>();
  // Wall-clock ms by source id: published, written to notification.inbox by the router, frame received.
  const hops = { sent: new Map<string, number>(), inbox: new Map<string, number>(), frame: new Map<string, number>() };
  let greeted = 0; // sockets that got their unread_count, the last frame of a connect
  const onFrame = (text: string) => {
    const frame = JSON.parse(text) as Frame;
    if (frame.type === 'unread_count') greeted += 1;
    const id = frame.type === 'notification' ? frame.notification?.source?.id : undefined;
    const at = id === undefined ? undefined : sentAt.get(id);
    if (at !== undefined && !received.has(id!)) { received.add(id!); latencies.push(performance.now() - at); hops.frame.set(id!, Date.now()); }
  };
  await tap.connect();
  await tap.subscribe({ topics: [topics.inbox], fromBeginning: true });
  await tap.run({ eachMessage: async ({ message }) => { hops.inbox.set((await codec.decode('Notification', message.value)).source_id, Number(message.timestamp)); } });

  const loadAtStart = loadAverage();
  const before = await settledMemory(child, inspector);
  const auth = createAuthenticator({ secret: endpoints.jwtSecret });
  const url = `${settings.url.replace('http', 'ws')}/v1/ws`;
  const half = Math.floor(SOCKETS / 2);
  /** Opens the sockets of users[from, to), OPENING at a time, and waits until each got its unread_count. */
  const open = async (from: number, to: number) => {
    for (let i = from; i < to; i += OPENING) {
      const batch = users.slice(i, Math.min(to, i + OPENING));
      sockets.push(...await Promise.all(batch.map(async (user, j) =>
        openSocket(url, await auth.sign({ userId: user, roles: [] }), onFrame, SOURCE_ADDRESSES[(i + j) % SOURCE_ADDRESSES.length]))));
    }
    await waitFor(() => (greeted >= to || child.exit ? true : undefined), 'every socket\'s unread_count', 60_000);
  };
  const opening = performance.now();
  await open(0, half);
  const middle = await settledMemory(child, inspector);
  await open(half, SOCKETS);
  const opened = performance.now() - opening;
  const gauge = await metric(settings.url, 'tidings_websocket_connections');
  const unsettled = vmRss(child.pid); // what an operator sees right after the opening, garbage included
  const after = await settledMemory(child, inspector);
  const perSocket = (key: keyof Memory) => `${count((after[key] - before[key]) / SOCKETS)} (second half ${count((after[key] - middle[key]) / (SOCKETS - half))}) bytes`;

  const byPartition = new Map<number, number>();
  for (const user of users) { const p = partitionOf(user); byPartition.set(p, (byPartition.get(p) ?? 0) + 1); }
  console.log(`${count(SOCKETS)} sockets opened in ${ms(opened)} (a GC between the halves included) from ${SOURCE_ADDRESSES.length} source addresses, one per user, users by partition `
    + `${[...byPartition].sort(([a], [b]) => a - b).map(([p, n]) => `${p}:${n}`).join(' ')}; Tidings counts ${count(gauge)} open`);
  console.log(`tidings memory after GC, before → after: RSS ${mib(before.rss)} → ${mib(after.rss)}, heap used ${mib(before.heapUsed)} → ${mib(after.heapUsed)} (total ${mib(before.heapTotal)} → ${mib(after.heapTotal)}), `
    + `external ${mib(before.external)} → ${mib(after.external)} (array buffers ${mib(before.arrayBuffers)} → ${mib(after.arrayBuffers)})`);
  console.log(`per idle socket: RSS ${perSocket('rss')} (${count((unsettled - before.rss) / SOCKETS)} bytes before the GC), heap used ${perSocket('heapUsed')}, external ${perSocket('external')} `
    + `(goal ≤ ${count(GOALS.bytesPerSocket)} bytes: ${(after.rss - before.rss) / SOCKETS <= GOALS.bytesPerSocket ? 'met' : 'not met'} by RSS)`);

  // Warm-up: the first event of a partition meets processors that have not produced to it yet.
  const warmUpEvents = users.slice(0, WARM_UP).map((u, i) => event(u, `${settings.id}-warmup-${i}`));
  for (const e of warmUpEvents) sentAt.set(e.source_id, performance.now());
  console.log(await warmUp(producer, codec, topics.events, warmUpEvents, () => received.size, child, 'frames'));
  received.clear();
  latencies.length = 0;
  sentAt.clear();

  const total = RATE * SECONDS;
  const messages = await encodeEvents(codec, topics.events, Array.from({ length: total }, (_, i) => event(users[i % SOCKETS]!, `${settings.id}-${i}`)));
  const took = await publishAtRate(producer, topics.events, messages, RATE, (id, now, wall) => { sentAt.set(id, now); hops.sent.set(id, wall); });
  await waitArrivals(() => received.size, total, child, STALL);

  console.log(publishedLine(total, took, RATE));
  console.log(`notification frames: ${count(received.size)} of ${count(total)} received; publish → frame p50 ${ms(quantile(latencies, 0.5))}, p95 ${ms(quantile(latencies, 0.95))}, `
    + `p99 ${ms(quantile(latencies, 0.99))}, max ${ms(highest(latencies))} (goal p99 ≤ ${ms(GOALS.p99)}: ${quantile(latencies, 0.99) <= GOALS.p99 ? 'met' : 'not met'})`);
  const split = (from: Map<string, number>, to: Map<string, number>, name: string) => {
    const xs = [...hops.sent.keys()].flatMap((id) => { const a = from.get(id); const b = to.get(id); return a === undefined || b === undefined ? [] : [b - a]; });
    return `${name} p50 ${ms(quantile(xs, 0.5))} p99 ${ms(quantile(xs, 0.99))}`;
  };
  console.log(`by hop: ${split(hops.sent, hops.inbox, 'publish → inbox record')}; ${split(hops.inbox, hops.frame, 'inbox record → frame')}`);
  console.log(`machine load (1-minute average): ${loadAtStart} at the start, ${loadAverage()} at the end`);
  console.log(child.exit ? `tidings: DIED (${describeExit(child)})` : 'tidings: stayed up');
  if (child.exit) console.log(lastOutput(child));
} finally {
  inspector?.close();
  await closeAll(sockets);
  await Promise.allSettled([tap.disconnect(), producer.disconnect()]);
  await child.stop();
  await settings.remove();
}

interface Frame { type?: string; notification?: { source?: { id?: string } } }


/** Closes every socket with 1000 and waits for the closes, up to 10 s; terminates what is left. */
async function closeAll(all: WebSocket[]): Promise<void> {
  const closed = all.map((s) => (s.readyState === WebSocket.CLOSED ? Promise.resolve() : new Promise<void>((resolve) => s.once('close', () => resolve()))));
  for (const s of all) s.close(1000, 'benchmark done');
  await Promise.race([Promise.all(closed), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
  for (const s of all) s.terminate();
}

/** Partition of the per-user topics that `userId` lands on: kafkajs' default murmur2 partitioner. */
function partitionOf(userId: string): number {
  const partitionMetadata: PartitionMetadata[] = Array.from({ length: PARTITIONS }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
  return Partitioners.DefaultPartitioner()({ topic: topics.accepted, partitionMetadata, message: { key: userId, value: null } });
}

/** A gauge or counter of the process's /metrics, summed over its labels. */
async function metric(base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`)).reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

interface Inspector {
  /** One Chrome DevTools Protocol call, its result. */
  call(method: string, params?: Record<string, unknown>): Promise<{ result?: { value?: unknown } }>;
  close(): void;
}

/** A CDP session on the child's inspector, whose address it prints on stderr at start. */
async function openInspector(tidings: TidingsChild): Promise<Inspector> {
  const address = await waitFor(() => tidings.lastLines(100).stderr.map((l) => /Debugger listening on (ws:\/\/\S+)/.exec(l)?.[1]).find((a) => a !== undefined),
    'the inspector\'s address', 10_000);
  const session = new WebSocket(address);
  await new Promise((resolve, reject) => { session.once('open', resolve); session.once('error', reject); });
  const waiting = new Map<number, (message: { result?: { result?: { value?: unknown } } }) => void>();
  session.on('message', (data) => {
    const message = JSON.parse(data.toString()) as { id?: number; result?: { result?: { value?: unknown } } };
    if (message.id !== undefined) waiting.get(message.id)?.(message);
    waiting.delete(message.id ?? -1);
  });
  let next = 0;
  return {
    call: (method, params = {}) => new Promise((resolve) => {
      const id = ++next;
      waiting.set(id, (message) => resolve(message.result ?? {}));
      session.send(JSON.stringify({ id, method, params }));
    }),
    close: () => session.close(),
  };
}

interface Memory { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number }

/** The child's memory after a full GC, once two readings a second apart agree within STEADY (at most 60 s). */
async function settledMemory(tidings: TidingsChild, session: Inspector): Promise<Memory> {
  let last: Memory | undefined;
  return waitFor(async () => {
    await session.call('HeapProfiler.collectGarbage');
    await session.call('HeapProfiler.collectGarbage'); // the second one frees what the first one's finalizers let go
    const { result } = await session.call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
    const usage = JSON.parse(String(result?.value)) as Memory;
    const now = { ...usage, rss: vmRss(tidings.pid) };
    const steady = last !== undefined && (['rss', 'heapUsed'] as const).every((k) => Math.abs(now[k] - last![k]) <= STEADY * last![k]);
    last = now;
    return steady ? now : undefined;
  }, 'the child\'s memory to hold steady', 60_000, 1_000);
}

/** VmRSS of `pid`, bytes. */
function vmRss(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}

/** The machine's 1-minute load average, as /proc/loadavg gives it. */
function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ')[0]!;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

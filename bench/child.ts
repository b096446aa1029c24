/**
 * What the process benchmarks share: isolated settings on the local stack (own
 * topic prefix, groups, transactional ids, database and port), a Tidings child
 * process (`node --import tsx src/main.ts start`) that is always killed when the
 * benchmark ends, its peak RSS and CPU time, bounded waits, the delivery
 * benchmarks' publishing and latency figures, and the loopback receivers
 * (webhook sink, SMTP server) they deliver to.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { SMTPServer } from 'smtp-server';
import type { Consumer, Producer } from 'kafkajs';
import { createWriteStream, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config.ts';
import { stackUp, REPO_ROOT, type Endpoints } from '../src/stack/stack.ts';
import { ensureDatabase } from '../src/db/pool.ts';
import { freePort } from '../src/stack/process.ts';
import { removeRuns } from '../src/stack/remove-runs.ts';
import { topicNames, type TopicNames } from '../src/kafka/topics.ts';
import { endOffsets, withAdmin, type Kafka } from '../src/kafka/client.ts';
import type { Codec } from '../src/kafka/codec.ts';
import type { TopicName } from '../src/kafka/topics.ts';
import { eventKey, type NotificationEvent } from '../src/model/notification.ts';
import { ENDPOINT_DEFAULTS, type DeliveryCommand, type Recipient, type WebhookEndpoint } from '../src/model/routing.ts';
import { webhookSecretContext, type SecretBox } from '../src/secret-box.ts';
import { generateSecret } from '../src/api/webhooks.ts';
import { groupId } from '../src/topology.ts';

export interface ChildSettings {
  id: string;
  prefix: string;
  topics: TopicNames;
  /** http://127.0.0.1:port, fixed for every process started on these settings */
  url: string;
  /** the run's services, databaseUrl pointing at the run's own database */
  endpoints: Endpoints;
  env: Record<string, string>;
  /** deletes the run's topics, subjects and database (removeRuns) */
  remove(): Promise<void>;
}

/** Fresh settings for one benchmark run; `extra` overrides the environment. */
export async function childSettings(extra: Record<string, string> = {}): Promise<ChildSettings> {
  const { endpoints } = await stackUp(loadConfig(process.env));
  const id = `bench${randomBytes(4).toString('hex')}`;
  const databaseUrl = await ensureDatabase(endpoints.databaseUrl, id);
  const port = await freePort();
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
    DATABASE_URL: databaseUrl,
    SMTP_URL: endpoints.smtpUrl,
    TIDINGS_JWT_SECRET: endpoints.jwtSecret,
    TIDINGS_SECRET_KEY: endpoints.secretKey,
    TIDINGS_TOPIC_PREFIX: `${id}.`,
    TIDINGS_INSTANCE_ID: id,
    TIDINGS_HTTP_HOST: '127.0.0.1',
    TIDINGS_HTTP_PORT: String(port),
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    ...extra,
  };
  return {
    id, prefix: `${id}.`, topics: topicNames(`${id}.`), url: `http://127.0.0.1:${port}`, endpoints: { ...endpoints, databaseUrl }, env,
    remove: async () => { await removeRuns(endpoints, id); },
  };
}

/**
 * Settings for process number `n` (2, 3 …) of the run `settings` describes:
 * the same topics, groups and database, its own port and instance id. Its
 * remove() is the run's; call it once.
 */
export async function replicaSettings(settings: ChildSettings, n: number): Promise<ChildSettings> {
  const port = await freePort();
  return { ...settings, url: `http://127.0.0.1:${port}`, env: { ...settings.env, TIDINGS_HTTP_PORT: String(port), TIDINGS_INSTANCE_ID: `${settings.id}-${n}` } };
}

export interface TidingsChild {
  pid: number;
  /** performance.now() at spawn */
  spawnedAt: number;
  /** undefined while running; the exit code, or the signal that ended it */
  readonly exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  exited: Promise<void>;
  /** the last `n` lines the process wrote to stderr and to stdout (pino) */
  lastLines(n?: number): { stderr: string[]; stdout: string[] };
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone */
  stop(graceMs?: number): Promise<void>;
  kill(): void;
}

const children = new Set<ChildProcess>();
process.once('exit', () => { for (const c of children) c.kill('SIGKILL'); });
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const c of children) c.kill('SIGKILL');
    process.exit(130);
  });
}

/** BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the Tidings process. */
function nodeArgs(): string[] {
  return (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a.length > 0);
}

export function spawnTidings(settings: ChildSettings): TidingsChild {
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [...nodeArgs(), '--import', 'tsx', 'src/main.ts', 'start'], { cwd: REPO_ROOT, env: settings.env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const stdout = lineBuffer();
  const stderr = lineBuffer();
  child.stdout.on('data', stdout.push);
  // BENCH_LOG=<file> keeps everything the process logs, for a closer look.
  if (process.env.BENCH_LOG) child.stdout.pipe(createWriteStream(process.env.BENCH_LOG));
  child.stderr.on('data', stderr.push);
  let exit: TidingsChild['exit'];
  const exited = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
    exit = { code, signal };
    children.delete(child);
    resolve();
  }));
  const kill = () => { if (!exit) child.kill('SIGKILL'); };
  return {
    pid: child.pid ?? -1,
    spawnedAt,
    get exit() { return exit; },
    exited,
    lastLines: (n = 15) => ({ stderr: stderr.last(n), stdout: stdout.last(n) }),
    kill,
    async stop(graceMs = 15_000) {
      if (exit) return;
      child.kill('SIGTERM');
      const timer = setTimeout(kill, graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

const CLOCK_TICKS = 100; // per second: USER_HZ of /proc/<pid>/stat, 100 on every Linux architecture Node runs on

/**
 * A running process's peak resident set (VmHWM of /proc/<pid>/status, MiB)
 * and CPU time (utime + stime of /proc/<pid>/stat, s); undefined when /proc
 * has no such process.
 */
export function processUsage(pid: number): { peakRssMiB: number; cpuSeconds: number } | undefined {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command name, which is in parentheses and may hold spaces: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { peakRssMiB: Number(hwm?.[1] ?? Number.NaN) / 1_024, cpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS };
  } catch {
    return undefined;
  }
}

/** "exit code 1", "signal SIGKILL" or "running". */
export function describeExit(child: TidingsChild): string {
  if (!child.exit) return 'running';
  return child.exit.signal ? `signal ${child.exit.signal}` : `exit code ${child.exit.code}`;
}

/** The process's last lines for a report: pino lines as "time level where: msg: error", others cut at 400 characters. */
export function lastOutput(child: TidingsChild, n = 12): string {
  const { stderr, stdout } = child.lastLines(n);
  return [`--- tidings stderr, last ${stderr.length} lines:`, ...stderr.map(short), `--- tidings stdout, last ${stdout.length} lines:`, ...stdout.map(readable)].join('\n');
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

function readable(line: string): string {
  try {
    const entry = JSON.parse(line) as { time?: string; level?: number; processor?: string; namespace?: string; msg?: string; error?: string; err?: { type?: string; message?: string } };
    const error = entry.err ? `${entry.err.type}: ${entry.err.message}` : entry.error;
    return short(`${entry.time} ${LEVELS[entry.level ?? 0] ?? entry.level} ${entry.processor ?? entry.namespace ?? ''}: ${entry.msg}${error && error !== entry.msg ? ` (${error})` : ''}`);
  } catch {
    return short(line);
  }
}

const short = (line: string) => (line.length > 400 ? `${line.slice(0, 400)}…` : line);

/** Polls GET /health/ready until 200; fails early if the process exits, or after `timeoutMs`. */
export async function waitReady(child: TidingsChild, url: string, timeoutMs = 120_000): Promise<number> {
  await waitFor(async () => {
    if (child.exit) throw new Error(`Tidings exited (${describeExit(child)}) before it was ready`);
    const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(1_000) }).catch(() => undefined);
    return response?.status === 200 ? true : undefined;
  }, 'GET /health/ready to answer 200', timeoutMs, 50);
  return performance.now();
}

/** Polls `probe` until it returns a value other than undefined; throws after `timeoutMs`. */
export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Sleeps until performance.now() reaches `at`. */
export function sleepUntil(at: number): Promise<void> {
  return sleep(Math.max(0, at - performance.now()));
}

/** The q-quantile (0..1) of `values`, nearest rank; NaN when empty. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Arrivals per second from the first (performance.now() or ms) to the last of `n`; NaN for fewer than two. */
export const perSecond = (n: number, first: number, last: number): number => (n > 1 ? ((n - 1) / (last - first)) * 1_000 : Number.NaN);

/** Math.min and Math.max without spreading (100,000 arguments overflow the stack); Infinity and -Infinity when empty. */
export const lowest = (values: Iterable<number>): number => { let m = Infinity; for (const v of values) if (v < m) m = v; return m; };
export const highest = (values: Iterable<number>): number => { let m = -Infinity; for (const v of values) if (v > m) m = v; return m; };

export const count = (value: number): string => (Number.isNaN(value) ? '-' : Math.round(value).toLocaleString('en'));

export const ms = (value: number): string => (Number.isNaN(value) ? '-' : `${Math.round(value).toLocaleString('en')} ms`);

function lineBuffer(keep = 100) {
  const lines: string[] = [];
  let partial = '';
  return {
    push: (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts.filter((l) => l.length > 0));
      if (lines.length > keep) lines.splice(0, lines.length - keep);
    },
    last: (n: number) => [...lines, ...(partial ? [partial] : [])].slice(-n),
  };
}

/** Waits until the router's group has committed past every record of `topic` (its table of that topic is loaded). */
export async function waitRouterConsumed(kafka: Kafka, settings: ChildSettings, topic: string): Promise<void> {
  const group = groupId('router', settings.prefix);
  await withAdmin(kafka, (admin) => waitFor(async () => {
    const ends = await endOffsets(kafka, topic);
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
    return ends.every((e) => BigInt(e.offset) === 0n || (at.get(e.partition) ?? -1n) >= BigInt(e.offset)) ? true : undefined;
  }, `the router to consume ${topic}`, 60_000, 100));
}

export interface Outgoing { id: string; key: string; value: Buffer }

/** `events` encoded for notification.events, each under its source id and keyed as Tidings keys it. */
export async function encodeEvents(codec: Codec, topic: TopicName<'events'>, events: NotificationEvent[]): Promise<Outgoing[]> {
  const out: Outgoing[] = [];
  for (const e of events) out.push({ id: e.source_id, key: eventKey(e), value: await codec.encode(topic, e) });
  return out;
}

/**
 * The warm-up before a measurement (connections opened, every partition
 * used): publishes `events` at once and waits, up to 60 s, until `arrived()`
 * has grown by as many. Returns "warm-up: <n> of <m> <what> in <ms>".
 */
export async function warmUp(producer: Producer, codec: Codec, topic: TopicName<'events'>, events: NotificationEvent[], arrived: () => number, child: TidingsChild, what: string): Promise<string> {
  const before = arrived();
  const started = performance.now();
  const messages = await encodeEvents(codec, topic, events);
  await producer.send({ topic, acks: -1, messages: messages.map(({ key, value }) => ({ key, value })) });
  await waitFor(() => (arrived() - before >= events.length || child.exit ? true : undefined), `the warm-up ${what}`, 60_000).catch(() => {});
  return `warm-up: ${arrived() - before} of ${events.length} ${what} in ${ms(performance.now() - started)}`;
}

const CHUNK_EVERY = 50; // ms between two sends at a set rate
const FLAT_OUT_CHUNK = 500; // records per send at rate 0

/**
 * Publishes `messages` to `topic` at `rate` per second, one send every 50 ms
 * (0: sends of 500 as fast as the producer takes them); `sent` gets each
 * message's id with performance.now() and Date.now() just before its send.
 * Returns the ms publishing took.
 */
export async function publishAtRate(producer: Producer, topic: string, messages: Outgoing[], rate: number, sent: (id: string, now: number, wall: number) => void): Promise<number> {
  const started = performance.now();
  const perChunk = rate > 0 ? Math.max(1, Math.round((rate * CHUNK_EVERY) / 1_000)) : FLAT_OUT_CHUNK;
  for (let i = 0; i < messages.length; i += perChunk) {
    if (rate > 0) await sleepUntil(started + (i / rate) * 1_000);
    const chunk = messages.slice(i, i + perChunk);
    const now = performance.now();
    const wall = Date.now();
    for (const m of chunk) sent(m.id, now, wall);
    await producer.send({ topic, acks: -1, messages: chunk.map(({ key, value }) => ({ key, value })) });
  }
  return performance.now() - started;
}

/** "published 20,000 in 1,234 ms (16,207/s, flat out)" */
export function publishedLine(events: number, took: number, rate: number): string {
  return `published ${count(events)} in ${ms(took)} (${count((events / took) * 1_000)}/s${rate > 0 ? `, target ${count(rate)}/s` : ', flat out'})`;
}

/** Waits until `arrived()` reaches `total`, the child exits, or `stallMs` pass without a new arrival. */
export async function waitArrivals(arrived: () => number, total: number, child: TidingsChild, stallMs: number): Promise<void> {
  let seen = 0;
  let progressAt = performance.now();
  while (arrived() < total && !child.exit && performance.now() - progressAt < stallMs) {
    if (arrived() > seen) { seen = arrived(); progressAt = performance.now(); }
    await sleep(100);
  }
}

/**
 * A consumer of the delivery commands on `topic`, read uncommitted: when the
 * router wrote each command that `keep` takes (CreateTime, ms), by its
 * notification's source id.
 */
export async function tapCommands(kafka: Kafka, codec: Codec, settings: ChildSettings, topic: string, keep: (command: DeliveryCommand) => boolean): Promise<{ consumer: Consumer; at: Map<string, number> }> {
  const at = new Map<string, number>();
  const consumer = kafka.consumer({ groupId: `bench-tap-${settings.id}-${topic}`, readUncommitted: true });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const command = await codec.decode('DeliveryCommand', message.value);
      if (keep(command)) at.set(command.notification.source_id, Number(message.timestamp));
    },
  });
  return { consumer, at };
}

/**
 * Where the time went, from wall-clock times (ms) by source id: publish →
 * command (the router) → arrival (the sender), the rate the router wrote the
 * commands at, and the highest latency by second of publishing.
 */
export function hopLines(sentWall: Map<string, number>, commandAt: Map<string, number>, arrivedAt: Map<string, number>, sender: string): string[] {
  const split = (from: Map<string, number>, to: Map<string, number>) => [...sentWall.keys()].flatMap((id) => {
    const a = from.get(id); const b = to.get(id); return a === undefined || b === undefined ? [] : [b - a];
  });
  const line = (name: string, xs: number[]) => `${name} p50 ${ms(quantile(xs, 0.5))} p99 ${ms(quantile(xs, 0.99))}`;
  const commandTimes = [...sentWall.keys()].flatMap((id) => { const t = commandAt.get(id); return t === undefined ? [] : [t]; });
  const commandRate = perSecond(commandTimes.length, lowest(commandTimes), highest(commandTimes));
  const bySecond = new Map<number, number>();
  const start = lowest(sentWall.values());
  for (const [id, t0] of sentWall) {
    const t = arrivedAt.get(id);
    if (t !== undefined) { const sec = Math.floor((t0 - start) / 1_000); bySecond.set(sec, Math.max(bySecond.get(sec) ?? 0, t - t0)); }
  }
  return [
    `by hop: ${line('publish → delivery command (router)', split(sentWall, commandAt))}; ${line(`command → delivery (${sender})`, split(commandAt, arrivedAt))}; `
      + `router wrote the commands at ${count(commandRate)}/s`,
    `max latency by second of publishing: ${[...bySecond].map(([s, v]) => `${s}:${v}`).join(' ')}`,
  ];
}

/** Opens a WebSocket to Tidings (from `localAddress` when given) and hands each text frame to `onText`; resolves once it is open. */
export async function openSocket(url: string, token: string, onText: (text: string) => void, localAddress?: string): Promise<WebSocket> {
  const socket = new WebSocket(`${url}?token=${encodeURIComponent(token)}`, localAddress ? { localAddress } : {});
  socket.on('message', (data) => onText(data.toString()));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    socket.once('error', reject);
  });
  socket.on('error', () => {}); // a socket Tidings drops (it died, say) is reported through the counts
  return socket;
}

/** The address webhook receivers listen on; the only one Tidings is allowed to reach (TIDINGS_WEBHOOK_ALLOWED_NETWORKS=127.0.0.2/32). */
export const SINK_HOST = '127.0.0.2';

export interface Sink { server: Server; url: string; close(): Promise<void> }

/** A keep-alive HTTP server on 127.0.0.2 that hands each request's body to `onBody` and answers 200, or (dead) never answers. */
export async function startSink(onBody: ((body: string, headers: Record<string, string | string[] | undefined>) => void) | 'dead'): Promise<Sink> {
  const server = createServer({ keepAliveTimeout: 120_000 }, (req, res) => {
    if (onBody === 'dead') { req.resume(); return; } // the connection stays open, no answer ever comes
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      onBody(Buffer.concat(chunks).toString(), req.headers);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, SINK_HOST, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server, url: `http://${SINK_HOST}:${port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

export interface Smtp { url: string; connections(): number; close(): Promise<void> }

/** The header fields of a message's head (up to the first empty line), unfolded, by lower-case name; the first of each. */
function headerFields(head: string): Map<string, string> {
  const fields = new Map<string, string>();
  const end = head.indexOf('\r\n\r\n');
  for (const line of (end < 0 ? head : head.slice(0, end)).replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    if (colon > 0 && !fields.has(name)) fields.set(name, line.slice(colon + 1).trim());
  }
  return fields;
}

/** An SMTP server on 127.0.0.1 (no TLS, no login) that accepts every message and hands its Subject and Message-ID to `onMail` at the end of DATA. */
export async function startSmtp(onMail: (subject: string, messageId: string) => void): Promise<Smtp> {
  const host = '127.0.0.1';
  let connections = 0;
  const server = new SMTPServer({
    // Stopping drops the pooled connections after 200 ms instead of waiting 30 s for them.
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false, closeTimeout: 200,
    onConnect(_session, callback) { connections += 1; callback(); },
    onData(stream, _session, callback) {
      // Only the head is kept; the body is read and dropped.
      let head = '';
      stream.on('data', (chunk: Buffer) => { if (!head.includes('\r\n\r\n')) head += chunk.toString('latin1'); });
      stream.once('error', callback);
      stream.once('end', () => {
        const fields = headerFields(head);
        onMail(fields.get('subject') ?? '', fields.get('message-id') ?? '');
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, host, () => resolve()); });
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://${host}:${port}`,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * An address on notification.recipients for each of `users`
 * (`<user>@bench.example.test`), as PUT /v1/recipients/{userId} would publish
 * it; resolves once the router has read them all.
 */
export async function publishRecipients(kafka: Kafka, producer: Producer, codec: Codec, settings: ChildSettings, users: readonly string[]): Promise<void> {
  const { topics } = settings;
  const messages = await Promise.all(users.map(async (user) => {
    const value: Recipient = { user_id: user, email: `${user}@bench.example.test`, display_name: user, locale: 'en', time_zone: 'UTC', roles: [], topics: [], updated_at: Date.now() };
    return { key: user, value: await codec.encode(topics.recipients, value) };
  }));
  await producer.send({ topic: topics.recipients, acks: -1, messages });
  await waitRouterConsumed(kafka, settings, topics.recipients);
}

/** An enabled generic endpoint `id` of `user` at `url` with a fresh sealed secret, for an endpoint set written straight to notification.webhooks. */
export function webhookEndpoint(secrets: SecretBox, user: string, id: string, url: string): WebhookEndpoint {
  return { ...ENDPOINT_DEFAULTS, id, url, format: 'generic', enabled: true, types: [], secret_encrypted: secrets.seal(generateSecret(), webhookSecretContext(user, id)) };
}

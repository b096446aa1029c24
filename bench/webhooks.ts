/**
 * Webhook delivery throughput, and whether dead endpoints hold back healthy
 * ones (printed, not asserted). Tidings runs as its own process (roles ingest,
 * api, dedupe, router, projector, webhook) on the local stack; `users` users
 * each have one generic endpoint on a keep-alive HTTP sink on 127.0.0.2 that
 * answers 200 at once. This process publishes `events` Avro events to
 * notification.events at `rate` per second (0: as fast as it can) and measures
 * at the sink: deliveries/s (first to last delivery) and publish → delivery
 * latency. Run 1: every endpoint healthy. Run 2, on fresh settings: the same,
 * plus one dead endpoint (accepts the connection, never answers) for a share
 * of the users. Only loopback is reached: receivers on 127.0.0.2, URLs are IP
 * literals, Tidings allows 127.0.0.2/32 only. Usage:
 *   npm run bench:webhooks [-- <events> <users> <rate> <deadShare> <inlineTimeoutMs>]
 *   (defaults 20000 200 2000 0.1, inline timeout: Tidings' default)
 */
import { createLogger } from '../src/logger.ts';
import { loadConfig } from '../src/config.ts';
import { createCodec, type Codec } from '../src/kafka/codec.ts';
import { createKafka, createProducer } from '../src/kafka/client.ts';
import type { NotificationEvent } from '../src/model/notification.ts';
import type { WebhookEndpoints } from '../src/model/routing.ts';
import { createSecretBox } from '../src/secret-box.ts';
import {
  childSettings, spawnTidings, waitReady, waitRouterConsumed, encodeEvents, warmUp, publishAtRate, publishedLine, waitArrivals, tapCommands, hopLines,
  quantile, perSecond, highest, ms, describeExit, lastOutput, startSink, SINK_HOST, webhookEndpoint,
} from './child.ts';

const EVENTS = Number(process.argv[2] ?? 20_000);
const USERS = Number(process.argv[3] ?? 200);
const RATE = Number(process.argv[4] ?? 2_000); // events/s; 0: as fast as the producer goes
const DEAD_SHARE = Number(process.argv[5] ?? 0.1); // of the users, run 2
const INLINE_MS = process.argv[6]; // TIDINGS_WEBHOOK_INLINE_TIMEOUT_MS; unset: Tidings' default
const HOST = SINK_HOST; // the only address Tidings may reach
const PARTITIONS = 6;
const STALL = 30_000; // ms without a new delivery before giving up
const GOALS = { deliveriesPerSecond: 2_000, p99Ratio: 1.2 };

interface RunResult { delivered: number; rate: number; latencies: number[]; deadRequests: number; exitedEarly: boolean }

async function run(label: string, deadShare: number): Promise<RunResult> {
  const extra: Record<string, string> = {
    TIDINGS_ROLES: 'ingest,api,dedupe,router,projector,webhook', TIDINGS_PARTITIONS: String(PARTITIONS), TIDINGS_WEBHOOK_ALLOWED_NETWORKS: `${HOST}/32`,
    ...(INLINE_MS === undefined ? {} : { TIDINGS_WEBHOOK_INLINE_TIMEOUT_MS: INLINE_MS }),
  };
  const settings = await childSettings(extra);
  const { topics, endpoints } = settings;
  const config = loadConfig(settings.env);
  const kafka = createKafka({ brokers: endpoints.kafkaBrokers, clientId: 'bench-webhooks', log: createLogger('silent') });
  const codec: Codec = createCodec(endpoints.schemaRegistryUrl);
  const secrets = createSecretBox(endpoints.secretKey);
  const users = Array.from({ length: USERS }, (_, i) => `user-${i}`);
  const deadCount = Math.round(USERS * deadShare);
  const deadUsers = new Set(users.slice(0, deadCount));

  // Publish time per source id; delivery latency once its body reaches the sink.
  const sentAt = new Map<string, number>();
  const sentWall = new Map<string, number>();
  const deliveredAt = new Map<string, number>(); // wall ms
  const latencies: number[] = [];
  let first = Number.NaN;
  let last = Number.NaN;
  let answered = 0; // every request the healthy sink answered, warm-up included
  const healthy = await startSink((body) => {
    const now = performance.now();
    answered += 1;
    const id = (JSON.parse(body) as { data?: { source?: { id?: string } } }).data?.source?.id;
    const at = id === undefined ? undefined : sentAt.get(id);
    if (at === undefined || deliveredAt.has(id!)) return; // warm-up, or a repeat
    deliveredAt.set(id!, Date.now());
    latencies.push(now - at);
    if (Number.isNaN(first)) first = now;
    last = now;
  });
  let deadRequests = 0;
  const dead = await startSink('dead');
  dead.server.on('request', () => { deadRequests += 1; });

  const child = spawnTidings(settings);
  const producer = createProducer(kafka, {});
  let tap: Awaited<ReturnType<typeof tapCommands>> | undefined;
  try {
    await waitReady(child, settings.url).catch((err: Error) => { throw new Error(`${err.message}\n${lastOutput(child)}`); });
    console.log(`\n${label}: ${USERS} users, ${deadCount} of them with a dead endpoint as well; Tidings pid ${child.pid}, prefix ${settings.prefix}`);
    console.log(`  settings: TIDINGS_ROLES=${config.roles.join(',')} TIDINGS_PARTITIONS=${config.partitions} TIDINGS_WEBHOOK_ALLOWED_NETWORKS=${HOST}/32 `
      + `INLINE_TIMEOUT_MS=${config.webhookInlineTimeoutMs} TIMEOUT_MS=${config.webhookTimeoutMs} CIRCUIT_OPEN_MS=${config.webhookCircuitOpenMs} `
      + `CONNECTIONS_PER_ORIGIN=${config.webhookConnectionsPerOrigin} MAX_IN_FLIGHT_PER_ENDPOINT=${config.webhookMaxInFlightPerEndpoint} `
      + `RETRY_SCHEDULE=${config.webhookRetrySchedule.map((d) => `${d}ms`).join(',')}`);
    await codec.register([{ topic: topics.events, schema: 'NotificationEvent' }, { topic: topics.webhooks, schema: 'WebhookEndpoints' }]);
    await producer.connect();
    // When the router wrote each healthy delivery command: splits the latency into pipeline and sender.
    tap = await tapCommands(kafka, codec, settings, topics.deliveryWebhook, (command) => command.webhook?.endpoint_id === 'main');

    // Endpoint sets straight to notification.webhooks (no save-time check).
    const endpoint = (user: string, id: string, url: string) => webhookEndpoint(secrets, user, id, url);
    const sets: { key: string; value: Buffer }[] = [];
    for (const user of users) {
      const value: WebhookEndpoints = { user_id: user, updated_at: Date.now(), endpoints: [
        endpoint(user, 'main', `${healthy.url}/hooks/${user}`),
        ...(deadUsers.has(user) ? [endpoint(user, 'dead', `${dead.url}/hooks/${user}`)] : []),
      ] };
      sets.push({ key: user, value: await codec.encode(topics.webhooks, value) });
    }
    await producer.send({ topic: topics.webhooks, acks: -1, messages: sets });
    await waitRouterConsumed(kafka, settings, topics.webhooks);

    const event = (user: string, sourceId: string): NotificationEvent => ({
      event_id: null, user_id: user, audience: null, type: 'job_completed', title: 'Build finished', message: 'All tasks finished',
      severity: 'info', data: null, action_url: null, source_type: 'bench', source_id: sourceId, occurred_at: Date.now(),
    });
    // Warm-up: one event per user without a dead endpoint, reported apart.
    const warm = users.filter((u) => !deadUsers.has(u)).map((u, i) => event(u, `${settings.id}-warm-${i}`));
    console.log(`  ${await warmUp(producer, codec, topics.events, warm, () => answered, child, 'deliveries')}`);
    const messages = await encodeEvents(codec, topics.events, Array.from({ length: EVENTS }, (_, i) => event(users[i % USERS]!, `${settings.id}-${i}`)));
    const published = await publishAtRate(producer, topics.events, messages, RATE, (id, now, wall) => { sentAt.set(id, now); sentWall.set(id, wall); });
    await waitArrivals(() => latencies.length, EVENTS, child, STALL);
    const rate = perSecond(latencies.length, first, last);
    console.log(`  ${publishedLine(EVENTS, published, RATE)}`);
    console.log(`  healthy endpoints: ${latencies.length.toLocaleString('en')} of ${EVENTS.toLocaleString('en')} delivered, ${Math.round(rate).toLocaleString('en')} deliveries/s (first to last, ${ms(last - first)}); `
      + `publish → delivery p50 ${ms(quantile(latencies, 0.5))}, p95 ${ms(quantile(latencies, 0.95))}, p99 ${ms(quantile(latencies, 0.99))}, max ${ms(latencies.length > 0 ? highest(latencies) : Number.NaN)}`);
    for (const line of hopLines(sentWall, tap.at, deliveredAt, 'webhook sender')) console.log(`  ${line}`);
    if (deadCount > 0) console.log(`  dead endpoints: ${deadRequests.toLocaleString('en')} requests received (none answered)`);
    console.log(child.exit ? `  tidings: DIED (${describeExit(child)})\n${lastOutput(child)}` : '  tidings: stayed up');
    return { delivered: latencies.length, rate, latencies, deadRequests, exitedEarly: child.exit !== undefined };
  } finally {
    await Promise.allSettled([tap?.consumer.disconnect(), producer.disconnect()]);
    await dead.close(); // open requests to the dead endpoint would otherwise hold up the child's shutdown
    await child.stop();
    await healthy.close();
    await settings.remove();
  }
}

console.log(`bench:webhooks: ${EVENTS.toLocaleString('en')} events, ${USERS} users (events round-robin over them), rate ${RATE > 0 ? `${RATE.toLocaleString('en')}/s` : 'flat out'}, `
  + `run 2 with a dead endpoint for ${Math.round(DEAD_SHARE * 100)} % of the users; receivers on ${HOST}`);
const one = await run('run 1 (all endpoints healthy)', 0);
const two = await run(`run 2 (plus a dead endpoint for ${Math.round(DEAD_SHARE * 100)} % of the users)`, DEAD_SHARE);
const p99 = (r: RunResult) => quantile(r.latencies, 0.99);
const ratio = p99(two) / p99(one);
console.log('\nsummary (goals: ≥ 2,000 deliveries/s, p99 ratio ≤ 1.2):');
console.log(`  run 1: ${Math.round(one.rate).toLocaleString('en')} deliveries/s, p99 ${ms(p99(one))}${one.rate >= GOALS.deliveriesPerSecond ? '' : ' (below the goal)'}`);
console.log(`  run 2: ${Math.round(two.rate).toLocaleString('en')} deliveries/s to healthy endpoints, p99 ${ms(p99(two))}${two.rate >= GOALS.deliveriesPerSecond ? '' : ' (below the goal)'}`);
console.log(`  p99(run 2) / p99(run 1) = ${ratio.toFixed(2)}${ratio <= GOALS.p99Ratio ? '' : ' (above the goal)'}`);

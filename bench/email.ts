/**
 * E-mail delivery throughput through the whole pipeline with the rate limits
 * off (printed, not asserted). Tidings runs as its own process (roles ingest,
 * api, dedupe, router, projector, email; TIDINGS_EMAIL_RATE_PER_SECOND=0,
 * TIDINGS_EMAIL_RATE_PER_DAY=0) on the local stack, its SMTP_URL an
 * `smtp-server` this process starts on 127.0.0.1 (no TLS, no login) that
 * accepts every message. `users` users each have an address on
 * notification.recipients; this process publishes `events` Avro events of
 * type job_failed (e-mail on by default) round-robin over them to
 * notification.events at `rate` per second (0: as fast as it can) and measures
 * at the SMTP server: e-mails/s (first to last end of DATA), publish → end of
 * DATA latency (the event's source id is in its title, so in the Subject),
 * e-mails received against expected, and repeated Message-IDs. Only loopback
 * is reached: the SMTP server listens on 127.0.0.1 and is Tidings' only
 * transport. Usage:
 *   npm run bench:email [-- <events> <users> <rate>]   (defaults 20000 200 0)
 */
import { createLogger } from '../src/logger.ts';
import { loadConfig } from '../src/config.ts';
import { createCodec } from '../src/kafka/codec.ts';
import { createKafka, createProducer } from '../src/kafka/client.ts';
import type { NotificationEvent } from '../src/model/notification.ts';
import {
  childSettings, spawnTidings, waitReady, encodeEvents, warmUp, publishAtRate, publishedLine, waitArrivals, tapCommands, hopLines,
  quantile, perSecond, highest, count, ms, describeExit, lastOutput, startSmtp, publishRecipients,
} from './child.ts';

const EVENTS = Number(process.argv[2] ?? 20_000);
const USERS = Number(process.argv[3] ?? 200);
const RATE = Number(process.argv[4] ?? 0); // events/s; 0: as fast as the producer goes
const PARTITIONS = 6;
const STALL = 30_000; // ms without a new e-mail before giving up
const GOAL = 500; // e-mails/s
const SOURCE_IN_SUBJECT = /Build (\S+) failed/;

// Publish time per source id; latency once its e-mail's DATA ends.
const sentAt = new Map<string, number>();
const sentWall = new Map<string, number>();
const receivedAt = new Map<string, number>(); // wall ms
const latencies: number[] = [];
const messageIds = new Map<string, number>(); // Message-ID → e-mails that carried it, warm-up included
let first = Number.NaN;
let last = Number.NaN;
let received = 0; // every e-mail, warm-up included
let repeats = 0; // a second e-mail for a source id already received (whatever its Message-ID)
let unmatched = 0; // e-mails whose Subject names no source id of this run
const smtp = await startSmtp((subject, messageId) => {
  const now = performance.now();
  received += 1;
  messageIds.set(messageId, (messageIds.get(messageId) ?? 0) + 1);
  const id = SOURCE_IN_SUBJECT.exec(subject)?.[1];
  if (id === undefined) { unmatched += 1; return; }
  const at = sentAt.get(id);
  if (at === undefined) return; // warm-up
  if (receivedAt.has(id)) { repeats += 1; return; }
  receivedAt.set(id, Date.now());
  latencies.push(now - at);
  if (Number.isNaN(first)) first = now;
  last = now;
});

const settings = await childSettings({
  TIDINGS_ROLES: 'ingest,api,dedupe,router,projector,email', TIDINGS_PARTITIONS: String(PARTITIONS),
  TIDINGS_EMAIL_RATE_PER_SECOND: '0', TIDINGS_EMAIL_RATE_PER_DAY: '0', SMTP_URL: smtp.url,
});
const { topics, endpoints } = settings;
const config = loadConfig(settings.env);
const kafka = createKafka({ brokers: endpoints.kafkaBrokers, clientId: 'bench-email', log: createLogger('silent') });
const codec = createCodec(endpoints.schemaRegistryUrl);
const users = Array.from({ length: USERS }, (_, i) => `user-${i}`);
const event = (user: string, sourceId: string): NotificationEvent => ({
  event_id: null, user_id: user, audience: null, type: 'job_failed', title: `Build ${sourceId} failed`, message: 'Step 3 of 7 exited with code 1',
  severity: 'error', data: null, action_url: null, source_type: 'bench', source_id: sourceId, occurred_at: Date.now(),
});

console.log(`bench:email: ${count(EVENTS)} events of type job_failed, ${USERS} users (events round-robin over them), rate ${RATE > 0 ? `${count(RATE)}/s` : 'flat out'}; SMTP server ${smtp.url}`);
const child = spawnTidings(settings);
const producer = createProducer(kafka, {});
let tap: Awaited<ReturnType<typeof tapCommands>> | undefined;
let rate = Number.NaN;
try {
  await waitReady(child, settings.url).catch((err: Error) => { throw new Error(`${err.message}\n${lastOutput(child)}`); });
  console.log(`  Tidings pid ${child.pid}, prefix ${settings.prefix}`);
  console.log(`  settings: TIDINGS_ROLES=${config.roles.join(',')} TIDINGS_PARTITIONS=${config.partitions} SMTP_URL=${smtp.url} `
    + `EMAIL_RATE_PER_SECOND=${config.emailRatePerSecond} EMAIL_RATE_PER_DAY=${config.emailRatePerDay} EMAIL_CIRCUIT_OPEN_MS=${config.emailCircuitOpenMs} `
    + `EMAIL_RETRY_SCHEDULE=${config.emailRetrySchedule.map((d) => `${d}ms`).join(',')}`);
  await codec.register([{ topic: topics.events, schema: 'NotificationEvent' }, { topic: topics.recipients, schema: 'Recipient' }]);
  await producer.connect();
  // When the router wrote each e-mail command (bulk lane: job_failed at severity error): splits the latency into pipeline and sender.
  tap = await tapCommands(kafka, codec, settings, topics.deliveryEmail, () => true);

  await publishRecipients(kafka, producer, codec, settings, users);

  // Warm-up: one event per user, reported apart.
  const warm = users.map((u, i) => event(u, `${settings.id}-warm-${i}`));
  console.log(`  ${await warmUp(producer, codec, topics.events, warm, () => received, child, 'e-mails')}`);
  const messages = await encodeEvents(codec, topics.events, Array.from({ length: EVENTS }, (_, i) => event(users[i % USERS]!, `${settings.id}-${i}`)));
  const published = await publishAtRate(producer, topics.events, messages, RATE, (id, now, wall) => { sentAt.set(id, now); sentWall.set(id, wall); });
  await waitArrivals(() => latencies.length, EVENTS, child, STALL);
  rate = perSecond(latencies.length, first, last);
  console.log(`  ${publishedLine(EVENTS, published, RATE)}`);
  for (const line of hopLines(sentWall, tap.at, receivedAt, 'e-mail sender')) console.log(`  ${line}`);
  console.log(`  SMTP connections opened: ${smtp.connections()}`);
  console.log(child.exit ? `  tidings: DIED (${describeExit(child)})\n${lastOutput(child)}` : '  tidings: stayed up');
} finally {
  await Promise.allSettled([tap?.consumer.disconnect(), producer.disconnect()]);
  await child.stop();
  await smtp.close();
  await settings.remove();
}

const duplicateIds = [...messageIds.values()].reduce((sum, n) => sum + n - 1, 0);
console.log(`\nsummary (goal ≥ ${GOAL} e-mails/s):`);
console.log(`  ${count(rate)} e-mails/s (first to last end of DATA, ${ms(last - first)})`);
console.log(`  publish → end of DATA p50 ${ms(quantile(latencies, 0.5))}, p95 ${ms(quantile(latencies, 0.95))}, p99 ${ms(quantile(latencies, 0.99))}, max ${ms(latencies.length > 0 ? highest(latencies) : Number.NaN)}`);
console.log(`  received ${count(latencies.length)} of ${count(EVENTS)} expected (${count(received)} e-mails in all with the warm-up's ${USERS}); `
  + `duplicates: ${duplicateIds} by Message-ID, ${repeats} repeats by source id; ${unmatched} without a source id in the Subject`);
console.log(`  goal ≥ ${GOAL} e-mails/s: ${rate >= GOAL ? 'met' : 'not met'} (${count(rate)}/s)`);

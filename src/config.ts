/**
 * Every setting Tidings reads comes from the environment, through this module
 * only. `loadConfig` parses and validates all of them at once, reports every
 * problem together, and returns a frozen object that is passed down.
 */
import { ConfigError } from './errors.ts';
import { ROLE_TABLE, type Role } from './topology.ts';
import { webhookSecretProblem } from './model/routing.ts';
import { parseNetworks } from './channels/webhook/address-guard.ts';
import type { Tiers } from './kafka/topics.ts';

type Parser<T> = (raw: string) => T;

interface Setting<T> {
  /** environment variable name */
  env: string;
  doc: string;
  /** undefined means "not set": the caller decides (for example: start the local stack) */
  default?: string;
  parse: Parser<T>;
}

const text: Parser<string> = (raw) => raw;

const integer = (min: number, max: number): Parser<number> => (raw) => {
  if (!/^-?\d+$/.test(raw.trim())) throw new Error(`must be an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new Error(`must be between ${min} and ${max}, got ${n}`);
  return n;
};

const boolean: Parser<boolean> = (raw) => {
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new Error(`must be true or false, got "${raw}"`);
};

const list: Parser<string[]> = (raw) => raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);

const brokers: Parser<string[]> = (raw) => {
  const items = list(raw);
  if (items.length === 0) throw new Error('must list at least one host:port');
  for (const item of items) {
    if (!/^[^\s:/]+:\d{1,5}$/.test(item)) throw new Error(`"${item}" is not host:port`);
  }
  return items;
};

const url = (protocols: string[]): Parser<string> => (raw) => {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new Error(`is not a URL: "${redactUrl(raw)}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new Error(`must use ${protocols.join(' or ')}, got ${parsed.protocol}`);
  }
  return raw;
};

/** Comma list of URLs of `protocols`, in order; kept as the list it was given (smtpUrlsOf splits it). */
/** A comma list of URLs: split only where a new URL's scheme follows, since a comma may stand unencoded in a password. */
const urlItems = (raw: string): string[] => raw.split(/,(?=\s*[a-z][a-z0-9+.-]*:\/\/)/i).map((s) => s.trim()).filter((s) => s.length > 0);

const urlList = (protocols: string[]): Parser<string> => (raw) => {
  const items = urlItems(raw);
  if (items.length === 0) throw new Error('must name at least one URL');
  // A bad item is named by its place, never by its text: it may hold a password.
  const problems = items.flatMap((item, i) => {
    if (!URL.canParse(item)) return [`URL ${i + 1} of ${items.length} is not a URL`];
    try {
      url(protocols)(item);
      return [];
    } catch (err) {
      return [(err as Error).message]; // names the scheme only
    }
  });
  if (problems.length > 0) throw new Error(problems.join('; '));
  return items.join(',');
};

/** The SMTP transports of SMTP_URL, in failover order. */
export function smtpUrlsOf(smtpUrl: string): string[] {
  return urlItems(smtpUrl);
}

/** A duration: 250ms, 4s, 5m, 2h (ms when no unit). */
export function parseDuration(raw: string): number {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(raw.trim());
  if (!m) throw new Error(`"${raw}" is not a duration such as 250ms, 4s, 5m or 2h`);
  const n = Number(m[1]) * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[(m[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h'];
  if (n <= 0) throw new Error(`"${raw}" must be longer than 0`);
  return n;
}

/** Delays between attempts: a comma list of durations, each at least as long as the one before. */
const schedule: Parser<number[]> = (raw) => {
  const delays = list(raw).map(parseDuration);
  if (delays.length === 0) throw new Error('must list at least one delay');
  if (delays.some((d, i) => i > 0 && d < delays[i - 1]!)) throw new Error('delays must not get shorter');
  return delays;
};

const oneOf = <T extends string>(values: readonly T[]): Parser<T> => (raw) => {
  if (!(values as readonly string[]).includes(raw)) throw new Error(`must be one of ${values.join(', ')}, got "${raw}"`);
  return raw as T;
};

const secret = (minLength: number): Parser<string> => (raw) => {
  if (raw.length < minLength) throw new Error(`must be at least ${minLength} characters`);
  return raw;
};

const webhookSecret: Parser<string> = (raw) => {
  const problem = webhookSecretProblem(raw);
  if (problem) throw new Error(problem);
  return raw;
};

const emailFrom: Parser<string> = (raw) => {
  if (!/^[^\r\n]*<?[^\s<>@]+@[^\s<>@]+>?$/.test(raw.trim())) throw new Error(`must be an address such as "Tidings <notifications@example.com>", got "${raw}"`);
  return raw.trim();
};

const topicPrefix: Parser<string> = (raw) => {
  if (!/^[a-zA-Z0-9._-]*$/.test(raw)) throw new Error('may hold only letters, digits, ".", "_" and "-"');
  return raw;
};

/** The roles of src/topology.ts, in its order. */
export const ROLES: readonly Role[] = Object.freeze(Object.keys(ROLE_TABLE) as Role[]);
export type { Role };

const roles: Parser<Role[]> = (raw) => {
  const items = list(raw);
  if (items.length === 1 && items[0] === 'all') return [...ROLES];
  for (const item of items) oneOf(ROLES)(item);
  if (items.length === 0) throw new Error('must name at least one role');
  return items as Role[];
};

const failpoint: Parser<{ name: 'projector-after-records'; records: number }> = (raw) => {
  const match = /^projector-after-records:(\d+)$/.exec(raw);
  if (!match) throw new Error('must be projector-after-records:<N>');
  return { name: 'projector-after-records', records: Number(match[1]) };
};

const key32: Parser<string> = (raw) => {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(raw) || Buffer.from(raw, 'base64').length !== 32) throw new Error('must be 32 bytes in base64');
  return raw;
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The settings table; README's configuration section lists exactly these. */
export const SETTINGS = {
  httpHost: { env: 'TIDINGS_HTTP_HOST', doc: 'Address the HTTP and WebSocket server listens on.', default: '127.0.0.1', parse: text },
  httpPort: { env: 'TIDINGS_HTTP_PORT', doc: 'Port of the HTTP and WebSocket server (0 picks a free one).', default: '3000', parse: integer(0, 65535) },
  publicUrl: { env: 'TIDINGS_PUBLIC_URL', doc: 'Where users reach this deployment\'s API (the process with the api role, behind its proxy), e.g. https://notify.example.com: the base of links in e-mails (one-click unsubscribe). Unset: this process\'s own address, right only when everything runs on one machine.', parse: url(['http:', 'https:']) },
  roles: { env: 'TIDINGS_ROLES', doc: `Roles this process runs: "all" or a comma list of ${ROLES.join(', ')}.`, default: 'all', parse: roles },
  instanceId: { env: 'TIDINGS_INSTANCE_ID', doc: 'Name of this process among its replicas; the gateway consumer group is derived from it. Default: host name and pid.', parse: text },
  logLevel: { env: 'LOG_LEVEL', doc: 'pino log level.', default: 'info', parse: oneOf(LOG_LEVELS) },
  kafkaBrokers: { env: 'KAFKA_BROKERS', doc: 'Comma list of host:port. Unset: the local stack\'s broker is started and used.', parse: brokers },
  kafkaClientId: { env: 'KAFKA_CLIENT_ID', doc: 'Kafka client id prefix.', default: 'tidings', parse: text },
  schemaRegistryUrl: { env: 'SCHEMA_REGISTRY_URL', doc: 'Confluent-compatible schema registry API, e.g. http://host:8081 or Apicurio\'s http://host:8080/apis/ccompat/v7. Unset: the local stack\'s registry.', parse: url(['http:', 'https:']) },
  databaseUrl: { env: 'DATABASE_URL', doc: 'PostgreSQL connection URL. Unset: the local stack\'s Postgres.', parse: url(['postgres:', 'postgresql:']) },
  smtpUrl: { env: 'SMTP_URL', doc: 'SMTP server URL (smtp:// or smtps://, credentials in the URL), or a comma list of them in failover order: when one fails the next takes over. Unset: the local stack\'s mail catcher.', parse: urlList(['smtp:', 'smtps:']) },
  topicPrefix: { env: 'TIDINGS_TOPIC_PREFIX', doc: 'Prefix for every topic, consumer group and transactional id (several Tidings on one cluster).', default: '', parse: topicPrefix },
  partitions: { env: 'TIDINGS_PARTITIONS', doc: 'Partition count of every per-user topic (they are co-partitioned).', default: '6', parse: integer(1, 1000) },
  replicationFactor: { env: 'TIDINGS_REPLICATION_FACTOR', doc: 'Replication factor of the topics Tidings creates.', default: '1', parse: integer(1, 10) },
  kafkaSessionTimeoutMs: { env: 'TIDINGS_KAFKA_SESSION_TIMEOUT_MS', doc: 'Milliseconds without a heartbeat before Kafka gives a processor\'s partitions to another member; also how long partitions of a killed process wait. Between the brokers\' group.min.session.timeout.ms (6000 by default) and group.max.session.timeout.ms.', default: '6000', parse: integer(1_000, 3_600_000) },
  kafkaFetchMaxWaitMs: { env: 'TIDINGS_KAFKA_FETCH_MAX_WAIT_MS', doc: 'Milliseconds a processor\'s fetch waits at the broker when no record is there yet (records that arrive end the wait at once); also the longest a stop waits for the fetch under way.', default: '250', parse: integer(1, 30_000) },
  schedulerTickMs: { env: 'TIDINGS_SCHEDULER_TICK_MS', doc: 'Milliseconds between two checks of the scheduler for due timers (its wall-clock punctuation): how late a delayed event may fire at most, beside the pipeline\'s own latency.', default: '1000', parse: integer(1, 3_600_000) },
  schedulerCancelRetentionMs: { env: 'TIDINGS_SCHEDULER_CANCEL_RETENTION_MS', doc: 'Milliseconds the scheduler remembers a cancel, so that a delayed event which occurred before the cancel but reaches the scheduler after it never fires.', default: String(7 * 24 * 3_600_000), parse: integer(1, 366 * 24 * 3_600_000) },
  agentOfflineBufferMs: { env: 'TIDINGS_AGENT_OFFLINE_BUFFER_MS', doc: 'Milliseconds an agent_offline event without deliver_at or delay_ms waits (KrakenHashes\' offline buffer): an event that cancels its timer_key meanwhile (the agent reconnected) means it is never delivered.', default: '300000', parse: integer(0, 7 * 24 * 3_600_000) },
  dedupeWindowHours: { env: 'TIDINGS_DEDUPE_WINDOW_HOURS', doc: 'Hours a source key is remembered: a repeat within them is a duplicate. Also the retention of notification.dedupe.', default: '168', parse: integer(1, 24 * 366) },
  globalWebhookUrl: { env: 'TIDINGS_GLOBAL_WEBHOOK_URL', doc: 'A webhook that receives every notification, whatever users chose (for example a team channel). Unset: none.', parse: url(['http:', 'https:']) },
  globalWebhookFormat: { env: 'TIDINGS_GLOBAL_WEBHOOK_FORMAT', doc: 'Payload of the global webhook: generic (Standard Webhooks JSON), discord, slack or teams.', default: 'generic', parse: oneOf(['generic', 'discord', 'slack', 'teams'] as const) },
  globalWebhookSecret: { env: 'TIDINGS_GLOBAL_WEBHOOK_SECRET', doc: 'Standard Webhooks secret (`whsec_` and base64) the global webhook is signed with. Unset: its deliveries are not signed.', parse: webhookSecret },
  emailHealthVerifyMs: { env: 'TIDINGS_EMAIL_HEALTH_VERIFY_MS', doc: 'Milliseconds between two rounds of SMTP connections that /health/email makes to check the transports; calls in between answer from the last round (/health needs no login).', default: '5000', parse: integer(0, 3_600_000) },
  lagIntervalMs: { env: 'TIDINGS_LAG_INTERVAL_MS', doc: 'Milliseconds between two rounds of the consumer lag monitor (members, committed and log-end offsets of every consumer group of the deployment, for /health/kafka).', default: '10000', parse: integer(10, 3_600_000) },
  lagWindow: { env: 'TIDINGS_LAG_WINDOW', doc: 'Samples per partition the lag monitor keeps and grades by Burrow\'s rules (OK, WARN, STOP, STALL, REWIND); a partition is graded once its window is full, so statuses settle after interval × window.', default: '10', parse: integer(2, 1000) },
  webhookAllowedNetworks: { env: 'TIDINGS_WEBHOOK_ALLOWED_NETWORKS', doc: 'Comma list of CIDR networks webhooks may reach although their range is refused (loopback, private, link-local, CGNAT …), e.g. an internal receiver. Cloud metadata addresses stay refused. Default: none.', default: '', parse: parseNetworks },
  webhookTimeoutMs: { env: 'TIDINGS_WEBHOOK_TIMEOUT_MS', doc: 'Milliseconds one webhook attempt may take, for endpoints that set no timeout of their own and for the global webhook (endpoints may set up to 60000).', default: '30000', parse: integer(100, 60_000) },
  webhookInlineTimeoutMs: { env: 'TIDINGS_WEBHOOK_INLINE_TIMEOUT_MS', doc: 'Milliseconds a delivery batch waits for one attempt\'s answer. A request still unanswered then stays open up to its endpoint\'s timeout, the delivery is retried from the retry topics, and that next attempt takes the late answer instead of sending again: a slow or dead endpoint cannot hold back the deliveries read with it.', default: '1000', parse: integer(10, 60_000) },
  webhookRetrySchedule: { env: 'TIDINGS_WEBHOOK_RETRY_SCHEDULE', doc: 'Delays before the second, third … attempt of a webhook delivery; one retry topic per distinct delay (notification.delivery.webhook.retry.<delay>). Each delay gets ±20 % jitter. After the last, the delivery goes to notification.delivery.webhook.dlq.', default: '1s,2s,4s,8s,16s,32s,64s,128s,256s', parse: schedule },
  webhookRetryAfterMaxMs: { env: 'TIDINGS_WEBHOOK_RETRY_AFTER_MAX_MS', doc: 'Longest Retry-After (of a 429 or 503) honoured; a longer one is cut to it.', default: '300000', parse: integer(0, 24 * 3_600_000) },
  webhookConnectionsPerOrigin: { env: 'TIDINGS_WEBHOOK_CONNECTIONS_PER_ORIGIN', doc: 'Keep-alive connections the webhook sender opens to one origin at most. One origin often serves many endpoints (Slack, Discord and Teams hooks, a customer\'s gateway); each endpoint has its own cap (TIDINGS_WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT).', default: '64', parse: integer(1, 1024) },
  webhookMaxInFlightPerEndpoint: { env: 'TIDINGS_WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT', doc: 'Attempts to one endpoint at once; a delivery that finds them all taken waits within its timeout, then is retried later.', default: '8', parse: integer(1, 1024) },
  webhookCircuitOpenMs: { env: 'TIDINGS_WEBHOOK_CIRCUIT_OPEN_MS', doc: 'After an endpoint failed without an answer (timeout, refused connection), milliseconds during which first attempts to it are not made but sent to the retry topics at once; retries still try it.', default: '30000', parse: integer(0, 24 * 3_600_000) },
  webhookDisableAfterMs: { env: 'TIDINGS_WEBHOOK_DISABLE_AFTER_MS', doc: 'An endpoint that has only failed for this long is disabled and its owner gets a webhook_failure notification (Svix: 5 days).', default: String(5 * 24 * 3_600_000), parse: integer(1, 366 * 24 * 3_600_000) },
  webhookSecretGraceMs: { env: 'TIDINGS_WEBHOOK_SECRET_GRACE_MS', doc: 'After a secret rotation, milliseconds during which deliveries are signed with the old secret too.', default: String(24 * 3_600_000), parse: integer(0, 366 * 24 * 3_600_000) },
  emailFrom: { env: 'TIDINGS_EMAIL_FROM', doc: 'From header of every e-mail; its domain is the right-hand side of each Message-ID.', default: 'Tidings <notifications@localhost>', parse: emailFrom },
  emailTemplatesDir: { env: 'TIDINGS_EMAIL_TEMPLATES_DIR', doc: 'Folder laid over the shipped e-mail templates: a file with the same relative path (`<locale>/<name>.subject.hbs`, `.html.hbs`, `.text.hbs`) wins. Unset: the shipped ones only.', parse: text },
  emailRatePerSecond: { env: 'TIDINGS_EMAIL_RATE_PER_SECOND', doc: 'E-mails one SMTP transport sends per second at most (0: no limit); beyond it sending waits.', default: '10', parse: integer(0, 1_000_000) },
  emailRatePerDay: { env: 'TIDINGS_EMAIL_RATE_PER_DAY', doc: 'E-mails one SMTP transport sends per day at most (0: no limit).', default: '10000', parse: integer(0, 1_000_000_000) },
  emailRetrySchedule: { env: 'TIDINGS_EMAIL_RETRY_SCHEDULE', doc: 'Delays before the second, third … attempt of an e-mail a server put off (4xx, no answer); one retry topic per distinct delay (notification.delivery.email.retry.<delay>). Each delay gets ±20 % jitter. After the last, the delivery goes to notification.delivery.email.dlq.', default: '1s,2s,4s,8s,16s,32s,64s,128s,256s', parse: schedule },
  emailCircuitOpenMs: { env: 'TIDINGS_EMAIL_CIRCUIT_OPEN_MS', doc: 'Milliseconds an SMTP transport that failed (no connection, timeout, 421) is skipped for the next one before a send probes it again.', default: '30000', parse: integer(0, 24 * 3_600_000) },
  jwtSecret: { env: 'TIDINGS_JWT_SECRET', doc: 'HS256 secret that signs the JWTs of browsers and API clients (32 characters or more). Required when every service is configured; unset with the local stack: a secret generated once under the stack folder.', parse: secret(32) },
  secretKey: { env: 'TIDINGS_SECRET_KEY', doc: 'Key that encrypts webhook signing secrets in Kafka and Postgres: 32 random bytes in base64 (`openssl rand -base64 32`). Required when every service is configured; unset with the local stack: a key generated once under the stack folder.', parse: key32 },
  jwtIssuer: { env: 'TIDINGS_JWT_ISSUER', doc: 'Expected "iss" of JWTs, when set.', parse: text },
  jwtAudience: { env: 'TIDINGS_JWT_AUDIENCE', doc: 'Expected "aud" of JWTs, when set.', parse: text },
  jwtAllowNoExp: { env: 'TIDINGS_JWT_ALLOW_NO_EXP', doc: 'Accept JWTs without "exp" (long-lived service tokens). Off: such tokens get 401 "token has no exp".', default: 'false', parse: boolean },
  wsOrigins: { env: 'TIDINGS_WS_ORIGINS', doc: 'Comma list of Origins allowed to open a WebSocket; "*" allows any. Default: the server\'s own address.', parse: list },
  wsMaxConnectionsPerUser: { env: 'TIDINGS_WS_MAX_CONNECTIONS_PER_USER', doc: 'WebSockets one user may hold on one gateway; a new one beyond it closes that user\'s oldest with code 4008.', default: '10', parse: integer(1, 1000) },
  wsUnreadCountWaitMs: { env: 'TIDINGS_WS_UNREAD_COUNT_WAIT_MS', doc: 'Milliseconds the gateway waits for the projector to apply a change before it sends the unread_count frame anyway.', default: '5000', parse: integer(0, 600_000) },
  wsResumeLimit: { env: 'TIDINGS_WS_RESUME_LIMIT', doc: 'Notifications a resuming WebSocket may have missed (and may receive while it resumes); past it the gateway answers resync and the client reloads its inbox.', default: '500', parse: integer(1, 100_000) },
  wsResumeWaitMs: { env: 'TIDINGS_WS_RESUME_WAIT_MS', doc: 'Milliseconds a resume waits for the projector to have what the socket missed before it answers resync.', default: '5000', parse: integer(0, 600_000) },
  wsMaxBufferedBytes: { env: 'TIDINGS_WS_MAX_BUFFERED_BYTES', doc: 'Bytes queued on one WebSocket before its client counts as too slow and is dropped.', default: String(1024 * 1024), parse: integer(1024, 1024 ** 3) },
  testNotificationPerMinute: { env: 'TIDINGS_TEST_NOTIFICATION_PER_MINUTE', doc: 'Test notifications (POST /v1/notifications/test) one user may ask for per minute on one API process; beyond it 429 with Retry-After.', default: '5', parse: integer(1, 10_000) },
  notificationCleanupIntervalMs: { env: 'TIDINGS_NOTIFICATION_CLEANUP_INTERVAL_MS', doc: 'Milliseconds between two rounds of the cleanup that deletes expired notifications (expires_at passed) from the inbox read model, in batches, on the process with the projector role. Expired ones leave the inbox, the unread count and resume at once; the cleanup only frees their rows.', default: '60000', parse: integer(1, 24 * 3_600_000) },
  failpoint: { env: 'TIDINGS_FAILPOINT', doc: 'For crash tests only: "projector-after-records:N" kills the process with SIGKILL right after the database commit that brings the records the projector applied to N or more.', parse: failpoint },
  stackDir: { env: 'TIDINGS_STACK_DIR', doc: 'Folder of the local stack: data, logs, pid files.', default: '.stack', parse: text },
  cacheDir: { env: 'TIDINGS_CACHE_DIR', doc: 'Folder for downloads (Kafka jars, Apicurio distribution).', default: '.cache', parse: text },
} satisfies Record<string, Setting<unknown>>;

type Settings = typeof SETTINGS;

/** The services the local stack stands in for while their URL is unset. */
export const SERVICE_SETTINGS = ['kafkaBrokers', 'schemaRegistryUrl', 'databaseUrl', 'smtpUrl'] as const satisfies readonly (keyof Settings)[];

/** The keys the local stack generates while they are unset; with every service configured they must be given. */
export const SECRET_SETTINGS = ['jwtSecret', 'secretKey'] as const satisfies readonly (keyof Settings)[];
type Parsed<S> = S extends { parse: Parser<infer T>; default: string } ? T : S extends { parse: Parser<infer T> } ? T | undefined : never;

/** The validated configuration: one frozen object, passed down from main. */
export type Config = Readonly<{ [K in keyof Settings]: Parsed<Settings[K]> }>;

/**
 * Parses every setting from `env`. Throws one ConfigError listing every problem.
 * @param env usually process.env
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const problems: string[] = [];
  const result: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(SETTINGS) as [string, Setting<unknown>][]) {
    const raw = env[setting.env];
    const value = raw === undefined || raw === '' ? setting.default : raw;
    if (value === undefined) {
      result[key] = undefined;
      continue;
    }
    try {
      result[key] = setting.parse(value);
    } catch (err) {
      problems.push(`${setting.env} ${(err as Error).message}`);
    }
  }
  problems.push(...missingSecrets(env));
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(result) as Config;
}

/**
 * With every service configured there is no local stack to keep generated
 * keys in, and replicas of one deployment must share theirs: both secrets are
 * then required.
 */
function missingSecrets(env: Readonly<Record<string, string | undefined>>): string[] {
  const given = (key: keyof Settings) => (env[SETTINGS[key].env] ?? '') !== '';
  if (!SERVICE_SETTINGS.every(given)) return [];
  const services = SERVICE_SETTINGS.map((key) => SETTINGS[key].env);
  const when = `${services.slice(0, -1).join(', ')} and ${services.at(-1)}`;
  return SECRET_SETTINGS.filter((key) => !given(key))
    .map((key) => `${SETTINGS[key].env} must be set when ${when} are (keys are generated only for the local stack)`);
}

/** The process's environment: what loadConfig reads, and what child processes inherit. */
export function processEnvironment(): NodeJS.ProcessEnv {
  return { ...process.env };
}

/** Replaces a URL's password with *** for logs and error messages. */
export function redactUrl(raw: string): string {
  return raw.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

/** The delay tiers of the retry topic families, from the retry schedules. */
export function tiersOf(config: Config): Tiers {
  return { deliveryWebhookRetry: config.webhookRetrySchedule, deliveryEmailRetry: config.emailRetrySchedule };
}

/**
 * Composition root: builds every part from the configuration, in the order
 * the data flows, and shuts them down in the reverse order:
 * not ready → stop accepting HTTP → close sockets with 1001 → consumers finish
 * their batch → producers flush → pool ends.
 */
import { hostname } from 'node:os';
import nodemailer from 'nodemailer';
import { smtpUrlsOf, tiersOf, type Config, type Role } from './config.ts';
import type { Endpoints } from './endpoints.ts';
import type { Logger } from './logger.ts';
import { createAuthenticator } from './auth.ts';
import { createKafka, ensureTopics, endOffsets, clusterId, topicNames, withAdmin, type TopicNames } from './kafka/client.ts';
import { createCodec } from './kafka/codec.ts';
import { TOPICS, valueSchemas, withExistingTiers } from './kafka/topics.ts';
import { createPublisher, type Publisher } from './kafka/publisher.ts';
import { startProcessor, type RunningProcessor } from './kafka/runner.ts';
import { createPool, ping, type Pool } from './db/pool.ts';
import { migrate } from './db/migrate.ts';
import { dedupeProcessor } from './processors/dedupe/adapter.ts';
import { startGlobalTable, type GlobalTable } from './kafka/global-table.ts';
import type { Recipient } from './model/routing.ts';
import { routerProcessor } from './processors/router/adapter.ts';
import { projectorProcessor } from './processors/projector/adapter.ts';
import { startExpiryCleanup } from './db/expiry-cleanup.ts';
import { gatewayProcessor } from './processors/gateway/adapter.ts';
import { schedulerProcessor } from './processors/scheduler/adapter.ts';
import { createUnreadCounts } from './websocket/unread-counts.ts';
import { createInboxStreams, type InboxStreams } from './websocket/streams.ts';
import { createResumer } from './websocket/resume.ts';
import { createProjectorProgress } from './websocket/projector-wait.ts';
import { webRoutes } from './api/web-routes.ts';
import { webhookProcessor, type Lane } from './processors/webhook/adapter.ts';
import { createWebhookAgent } from './channels/webhook/agent.ts';
import { systemResolver, type Resolver } from './channels/webhook/address-guard.ts';
import { createSender } from './channels/webhook/sender.ts';
import { emailProcessor, type EmailLane } from './processors/email/adapter.ts';
import { createTransportPool, type TransportPool } from './channels/email/transport-pool.ts';
import { createEmailTemplates } from './channels/email/templates.ts';
import { createEmailSender, type EmailSender } from './channels/email/sender.ts';
import { createConnections, type Connections } from './websocket/connections.ts';
import { attachSocketServer } from './websocket/server.ts';
import { WS_PATH } from './websocket/protocol.ts';
import { createHttpServer } from './api/server.ts';
import { eventRoutes } from './api/events.ts';
import { preferenceRoutes } from './api/preferences.ts';
import { unsubscribeRoutes } from './api/unsubscribe.ts';
import { recipientRoutes } from './api/recipients.ts';
import { inboxRoutes } from './api/inbox.ts';
import { testNotificationRoutes } from './api/test-notification.ts';
import { auditRoutes } from './api/audit.ts';
import { deadLetterRoutes } from './api/dead-letters.ts';
import { createDeadLetterStore } from './kafka/dead-letter-store.ts';
import { webhookRoutes } from './api/webhooks.ts';
import { createSecretBox } from './secret-box.ts';
import { healthRoutes, type Check } from './health/routes.ts';
import { emailCheck } from './health/email-check.ts';
import { kafkaCheck, kafkaDetailedRoutes } from './health/kafka-check.ts';
import { createLagMonitor } from './health/lag-monitor.ts';
import { registerLagMetrics } from './health/lag-metrics.ts';
import { groupId, processorsOf, type ProcessorName } from './topology.ts';
import { createMetrics } from './metrics.ts';
import { metricsRoutes } from './api/metrics.ts';
import { connectionRoutes } from './api/connections.ts';

export interface Tidings {
  /** http://host:port of the HTTP server */
  url: string;
  wsUrl: string;
  topics: TopicNames;
  processors: readonly RunningProcessor[];
  connections: Connections;
  pool: Pool;
  publisher: Publisher;
  /** every user's roles and topics as dedupe sees them (with the dedupe role) */
  directory: GlobalTable<Recipient> | undefined;
  stop(): Promise<void>;
}

export interface StartOptions {
  config: Config;
  endpoints: Endpoints;
  log: Logger;
  /** called when a processor stops on an error it cannot handle; main exits non-zero */
  onFatal?(err: Error): void;
  /** how webhook host names are resolved (the system resolver unless given) */
  resolve?: Resolver;
}

export async function startTidings({ config, endpoints, log, onFatal, resolve = systemResolver }: StartOptions): Promise<Tidings> {
  const has = (role: Role) => config.roles.includes(role);
  const prefix = config.topicPrefix;
  const topics = topicNames(prefix);
  const instanceId = config.instanceId ?? `${hostname()}-${process.pid}`;
  let ready = false;

  const pool = createPool(endpoints.databaseUrl, log);
  const applied = await migrate(endpoints.databaseUrl, log);
  if (applied.length > 0) log.info({ migrations: applied }, 'migrations applied');

  const kafka = createKafka({ brokers: endpoints.kafkaBrokers, clientId: `${config.kafkaClientId}-${instanceId}`, log });
  const dedupeWindowMs = config.dedupeWindowHours * 3_600_000;
  // The schedules' tiers, and tier topics a former schedule left (their records are still delivered).
  const tiers = withExistingTiers(topics, tiersOf(config), await withAdmin(kafka, (admin) => admin.listTopics()));
  const created = await ensureTopics(kafka, { prefix, partitions: config.partitions, replicationFactor: config.replicationFactor, retentionMs: { dedupe: dedupeWindowMs }, tiers });
  if (created.length > 0) log.info({ topics: created }, 'topics created');

  const codec = createCodec(endpoints.schemaRegistryUrl);
  const ids = await codec.register(valueSchemas(topics, undefined, tiers));
  log.info({ subjects: Object.fromEntries(ids) }, 'schemas registered');

  const publisher = await createPublisher(kafka, codec);
  const metrics = createMetrics();
  const connections = createConnections({ perUser: config.wsMaxConnectionsPerUser, maxBufferedBytes: config.wsMaxBufferedBytes }, metrics);
  const runnerDeps = {
    kafka,
    codec,
    log,
    onCrash: (err: Error) => onFatal?.(err),
    sessionTimeoutMs: config.kafkaSessionTimeoutMs,
    fetchMaxWaitMs: config.kafkaFetchMaxWaitMs,
    metrics,
  };

  const agent = createWebhookAgent({ allowed: config.webhookAllowedNetworks, connectionsPerOrigin: config.webhookConnectionsPerOrigin, connectTimeoutMs: 10_000, resolve });
  const sender = createSender({
    agent, secrets: createSecretBox(endpoints.secretKey), globalSecret: config.globalWebhookSecret,
    maxInFlightPerEndpoint: config.webhookMaxInFlightPerEndpoint, circuitOpenMs: config.webhookCircuitOpenMs, userAgent: 'Tidings-Webhooks',
  });
  const webhookDeps = (lane: Lane) => ({
    lane, kafka, codec, pool, topics, tiers, prefix, sender, log,
    policy: { delays: config.webhookRetrySchedule, retryAfterMaxMs: config.webhookRetryAfterMaxMs },
    waitMs: config.webhookInlineTimeoutMs, disableAfterMs: config.webhookDisableAfterMs,
  });

  // The server's address is known once it listens (port 0); until then the configured one. Unsubscribe links point at it.
  let serverUrl = `http://${config.httpHost}:${config.httpPort}`;
  let mailPool: TransportPool | undefined; // one for both e-mail lanes, so they share the transports' rate limits and circuits
  let emailSender: EmailSender | undefined;
  const emailDeps = (lane: EmailLane) => {
    mailPool ??= createTransportPool({
      urls: smtpUrlsOf(endpoints.smtpUrl), circuitOpenMs: config.emailCircuitOpenMs, connectionTimeoutMs: 10_000,
      rateLimit: { perSecond: config.emailRatePerSecond, perDay: config.emailRatePerDay },
    });
    const sender = emailSender ??= createEmailSender({
      pool: mailPool, templates: createEmailTemplates({ overridesDir: config.emailTemplatesDir }), fromAddress: config.emailFrom,
      domain: fromDomain(config.emailFrom), unsubscribeBase: () => `${(config.publicUrl ?? serverUrl).replace(/\/+$/, '')}/v1/unsubscribe`,
      unsubscribeSecret: Buffer.from(endpoints.secretKey, 'base64'),
    });
    return {
      lane, kafka, codec, topics, tiers, prefix, sender, pool: mailPool, log, rateWaitMs: EMAIL_RATE_WAIT_MS,
      policy: { delays: config.emailRetrySchedule, retryAfterMaxMs: 0 },
    };
  };

  // What this process's projector (if it has the role) has committed: the gateway's waits for it end there (src/websocket/projector-wait.ts).
  const progress = createProjectorProgress();
  // unread_count frames once the projector has applied what changed a count (src/websocket/unread-counts.ts)
  const unreadCounts = createUnreadCounts({
    pool, projectorGroup: groupId('projector', prefix), progress, connections, pollMs: 20, waitMs: config.wsUnreadCountWaitMs, log: log.child({ component: 'unread-counts' }),
  });
  let directory: GlobalTable<Recipient> | undefined;
  let streams: InboxStreams | undefined; // the gateway's
  // How each processor of src/topology.ts starts; which of them run is the roles' choice (processorsOf).
  const starters: Record<ProcessorName, () => Promise<RunningProcessor>> = {
    dedupe: async () => {
      directory = await startGlobalTable<Recipient>({ kafka, topic: topics.recipients, decode: (v) => codec.decode(TOPICS.recipients.value, v), log, onCrash: (err) => onFatal?.(err) });
      return startProcessor(dedupeProcessor({ kafka, codec, topics, prefix, windowMs: dedupeWindowMs, defaultDelays: { agent_offline: config.agentOfflineBufferMs }, directory, log }), runnerDeps);
    },
    scheduler: () => startProcessor(schedulerProcessor({
      kafka, codec, topics, prefix, tickMs: config.schedulerTickMs, cancelRetentionMs: config.schedulerCancelRetentionMs, log,
    }), runnerDeps),
    router: () => {
      const globalWebhook = config.globalWebhookUrl ? { url: config.globalWebhookUrl, format: config.globalWebhookFormat, timeoutMs: config.webhookTimeoutMs } : undefined;
      return startProcessor(routerProcessor({ kafka, codec, topics, prefix, globalWebhook, log }), runnerDeps);
    },
    projector: () => {
      const crash = failpoint(config, log);
      return startProcessor(projectorProcessor({
        pool, publisher, topics, prefix,
        afterCommit: (batch) => {
          if (batch.nextOffset !== '') progress.committed(batch.topic, batch.partition, BigInt(batch.nextOffset));
          crash?.(batch.records);
        },
      }), runnerDeps);
    },
    'webhook': () => startProcessor(webhookProcessor(webhookDeps('webhook')), runnerDeps),
    'webhook-retry': () => startProcessor(webhookProcessor(webhookDeps('webhook-retry')), runnerDeps),
    'email-priority': () => startProcessor(emailProcessor(emailDeps('email-priority')), runnerDeps),
    'email': () => startProcessor(emailProcessor(emailDeps('email')), runnerDeps),
    'email-retry': () => startProcessor(emailProcessor(emailDeps('email-retry')), runnerDeps),
    gateway: async () => {
      const startAt = { [topics.inbox]: await endOffsets(kafka, topics.inbox), [topics.reads]: await endOffsets(kafka, topics.reads) };
      streams = createInboxStreams({ clusterId: await clusterId(kafka), topic: topics.inbox, startAt: startAt[topics.inbox]! });
      return startProcessor(gatewayProcessor({ connections, topics, prefix, instanceId, startAt, unreadCounts, streams }), runnerDeps);
    },
  };
  const processors: RunningProcessor[] = [];
  for (const name of processorsOf(config.roles)) processors.push(await starters[name]());
  await Promise.all(processors.map((p) => p.ready));
  // Rows of expired notifications, deleted beside the projector (src/db/expiry-cleanup.ts; readers stop seeing them at once).
  const cleanup = has('projector')
    ? startExpiryCleanup({ pool, intervalMs: config.notificationCleanupIntervalMs, log: log.child({ component: 'expiry-cleanup' }), onFatal: (err) => onFatal?.(err) })
    : undefined;

  const auth = createAuthenticator({ secret: endpoints.jwtSecret, issuer: config.jwtIssuer, audience: config.jwtAudience, allowNoExp: config.jwtAllowNoExp });
  const app = await createHttpServer({ log, auth, metrics });
  // Without the email role, the health check verifies the first SMTP_URL on a transport of its own; with it, the lanes' pool answers.
  const mail = mailPool ? undefined : nodemailer.createTransport(smtpUrlsOf(endpoints.smtpUrl)[0]!);
  // Consumer lag of every group of the deployment, graded like Burrow; started once the server listens.
  const lag = createLagMonitor({ kafka, prefix, tiers, intervalMs: config.lagIntervalMs, window: config.lagWindow, log: log.child({ component: 'lag-monitor' }) });
  registerLagMetrics(metrics, lag, prefix);
  const checks: Check[] = [
    { name: 'database', run: async () => ({ latency: await ping(pool) }) },
    kafkaCheck({ kafka, lag }), // brokers, and each consumer group's lag status; 503 while one is in error
    { name: 'schema-registry', run: async () => {
      const response = await fetch(`${endpoints.schemaRegistryUrl}/subjects`, { signal: AbortSignal.timeout(2_000) });
      if (!response.ok) throw new Error(`registry answered ${response.status}`);
      return { subjects: ((await response.json()) as unknown[]).length };
    } },
    emailCheck({ pool: mailPool, verify: async () => (await mail?.verify()) ?? false, verifyEveryMs: config.emailHealthVerifyMs }), // the e-mail lanes' transports with the email role; else verifies the first SMTP_URL
  ];
  await app.register(healthRoutes, { checks, isReady: () => ready });
  await app.register(kafkaDetailedRoutes, { lag });
  await app.register(metricsRoutes, { metrics });
  if (has('ingest')) await app.register(eventRoutes, { publisher, eventsTopic: topics.events });
  if (has('api')) {
    await app.register(inboxRoutes, { pool, publisher, readsTopic: topics.reads });
    await app.register(testNotificationRoutes, { publisher, eventsTopic: topics.events, perMinute: config.testNotificationPerMinute });
    await app.register(preferenceRoutes, { publisher, pool, preferencesTopic: topics.preferences });
    await app.register(unsubscribeRoutes, { publisher, pool, preferencesTopic: topics.preferences, secret: Buffer.from(endpoints.secretKey, 'base64') });
    await app.register(recipientRoutes, { publisher, pool, recipientsTopic: topics.recipients });
    await app.register(webhookRoutes, { publisher, pool, secrets: createSecretBox(endpoints.secretKey), webhooksTopic: topics.webhooks, deliveryWebhookTopic: topics.deliveryWebhook, defaultTimeoutMs: config.webhookTimeoutMs, allowed: config.webhookAllowedNetworks, resolve, secretGraceMs: config.webhookSecretGraceMs });
    await app.register(auditRoutes, { pool });
    await app.register(deadLetterRoutes, { store: createDeadLetterStore({ kafka, codec, publisher, topics }) });
  }
  if (has('gateway')) await app.register(connectionRoutes, { connections, instanceId });
  if (has('api') || has('gateway')) await app.register(webRoutes); // the browser client and /demo
  await app.ready();
  // Without a configured allow-list, only pages served by Tidings itself may
  // open a socket; their origin is known once the port is.
  const origins = config.wsOrigins ? [...config.wsOrigins] : [];
  const sockets = has('gateway')
    ? attachSocketServer({
      server: app.server, auth, connections, origins, metrics, log: log.child({ component: 'websocket' }),
      commands: { pool, publisher, readsTopic: topics.reads }, // mark_read & co., as the REST routes apply them, on every gateway
      unreadCounts,
      streams: streams && {
        streams, limit: config.wsResumeLimit,
        resumer: createResumer({ streams, topic: topics.inbox, limit: config.wsResumeLimit, pool, projectorGroup: groupId('projector', prefix), progress, pollMs: 20, waitMs: config.wsResumeWaitMs, log: log.child({ component: 'resume' }) }),
      },
    })
    : undefined;
  await app.listen({ host: config.httpHost, port: config.httpPort });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.httpPort;
  const url = `http://${config.httpHost}:${port}`;
  serverUrl = url;
  if (!config.wsOrigins) origins.push(url, `http://localhost:${port}`, `http://127.0.0.1:${port}`);
  lag.start();
  ready = true;
  log.info({ url, roles: config.roles, instanceId }, 'tidings started');

  let stopping: Promise<void> | undefined;
  return {
    url,
    wsUrl: `${url.replace(/^http/, 'ws')}${WS_PATH}`,
    topics,
    processors,
    connections,
    pool,
    publisher,
    directory,
    stop() {
      stopping ??= (async () => {
        ready = false;
        await sockets?.close();
        unreadCounts.close();
        await app.close();
        await lag.stop();
        await cleanup?.stop();
        for (const p of [...processors].reverse()) await p.stop();
        await directory?.stop();
        await agent.close();
        await publisher.disconnect();
        mail?.close();
        mailPool?.close();
        await pool.end();
        log.info('tidings stopped');
      })();
      return stopping;
    },
  };
}

/** ms an e-mail waits for its transport's rate limit within a batch; past it, it goes to the retry tiers (nothing is dropped). */
const EMAIL_RATE_WAIT_MS = 2_000;

/** The domain of a From address (`Tidings <notifications@example.com>` → example.com), for Message-IDs. */
function fromDomain(from: string): string {
  return /@([^\s<>@]+)>?\s*$/.exec(from)?.[1] ?? 'localhost';
}

/** The crash-test hook of TIDINGS_FAILPOINT: SIGKILL right after the commit that brings the projected records to N. */
function failpoint(config: Config, log: Logger): ((records: number) => void) | undefined {
  const point = config.failpoint;
  if (!point) return undefined;
  log.warn({ failpoint: point }, 'failpoint armed: this process will kill itself');
  let applied = 0;
  return (records) => {
    applied += records;
    if (applied >= point.records) process.kill(process.pid, 'SIGKILL');
  };
}

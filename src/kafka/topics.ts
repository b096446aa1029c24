/**
 * The one registry of Tidings' topics and value schemas: each schema's file in
 * schemas/ and the TypeScript type of its values, and each topic's name, key,
 * value schema, cleanup and retention. Nothing else spells a topic name or a
 * schema file. Per-user topics share one partition count so they are
 * co-partitioned.
 *
 * Adding a topic is one entry in TOPICS; a new value schema is one entry in
 * SCHEMAS plus its .avsc (test/unit/schemas.test.ts checks the type against it).
 */
import type { DedupeEntry } from '../model/dedupe-entry.ts';
import type { Timer } from '../model/timer.ts';
import type { DeadLetterRedrive } from '../model/dead-letter-redrive.ts';
import type { Notification, NotificationEvent } from '../model/notification.ts';
import type { AuditEvent, DeliveryCommand, DeliveryResult, PreferenceSet, ReadEvent, Recipient, WebhookEndpoints } from '../model/routing.ts';

const DAY = 24 * 60 * 60 * 1000; // ms

/** A value schema: its file in schemas/; `V` is the type its records decode to (a type only, never set). */
export interface SchemaSpec<V> {
  readonly file: string;
  readonly type?: V;
}

const schema = <V>(file: string): SchemaSpec<V> => ({ file });

/** Every Avro value schema, under the name of its record (`io.tidings.<name>`). */
export const SCHEMAS = {
  NotificationEvent: schema<NotificationEvent>('notification-event.avsc'),
  Notification: schema<Notification>('notification.avsc'),
  DedupeEntry: schema<DedupeEntry>('dedupe-entry.avsc'),
  PreferenceSet: schema<PreferenceSet>('preference-set.avsc'),
  Recipient: schema<Recipient>('recipient.avsc'),
  WebhookEndpoints: schema<WebhookEndpoints>('webhook-endpoints.avsc'),
  DeliveryCommand: schema<DeliveryCommand>('delivery-command.avsc'),
  DeliveryResult: schema<DeliveryResult>('delivery-result.avsc'),
  AuditEvent: schema<AuditEvent>('audit-event.avsc'),
  ReadEvent: schema<ReadEvent>('read-event.avsc'),
  DeadLetterRedrive: schema<DeadLetterRedrive>('dead-letter-redrive.avsc'),
  Timer: schema<Timer>('timer.avsc'),
} as const;

export type SchemaName = keyof typeof SCHEMAS;

/** The TypeScript type of a schema's values. */
export type SchemaValue<N extends SchemaName> = (typeof SCHEMAS)[N] extends SchemaSpec<infer V> ? V : never;

export interface TopicSpec {
  /** name without the deployment prefix */
  readonly base: string;
  /** what the record key holds */
  readonly key: 'source_key' | 'user_id' | 'timer key' | 'original key' | 'dead letter';
  /** Avro value schema, or the bytes of a record that could not be processed */
  readonly value: SchemaName | 'original bytes';
  readonly cleanup: 'delete' | 'compact' | 'compact,delete';
  /** ms; -1 keeps records forever */
  readonly retentionMs: number;
  readonly doc: string;
  /**
   * A family of topics, one per delay tier of a retry schedule, named
   * `<name>.<delay>` (e.g. notification.delivery.webhook.retry.4s); the
   * schedule is configuration, so the names are known once it is (tierTopics).
   */
  readonly tiered?: true;
}

export const TOPICS = {
  events: { base: 'notification.events', key: 'source_key', value: 'NotificationEvent', cleanup: 'delete', retentionMs: 7 * DAY, doc: 'what happened, from producers and POST /v1/events' },
  eventsDlq: { base: 'notification.events.dlq', key: 'original key', value: 'original bytes', cleanup: 'delete', retentionMs: 90 * DAY, doc: 'undecodable or invalid events, reason in headers' },
  dedupe: { base: 'notification.dedupe', key: 'source_key', value: 'DedupeEntry', cleanup: 'compact,delete', retentionMs: 7 * DAY, doc: 'changelog of the dedupe store' },
  accepted: { base: 'notification.accepted', key: 'user_id', value: 'Notification', cleanup: 'delete', retentionMs: -1, doc: 'the event store: one record per recipient' },
  acceptedDlq: { base: 'notification.accepted.dlq', key: 'original key', value: 'original bytes', cleanup: 'delete', retentionMs: 90 * DAY, doc: 'records the router or a projection could not apply, reason in headers' },
  inbox: { base: 'notification.inbox', key: 'user_id', value: 'Notification', cleanup: 'delete', retentionMs: -1, doc: 'the inbox\'s event store: each notification whose in-app channel the router turned on' },
  preferences: { base: 'notification.preferences', key: 'user_id', value: 'PreferenceSet', cleanup: 'compact', retentionMs: -1, doc: 'preference sets' },
  recipients: { base: 'notification.recipients', key: 'user_id', value: 'Recipient', cleanup: 'compact', retentionMs: -1, doc: 'e-mail, name, locale, time zone, roles' },
  webhooks: { base: 'notification.webhooks', key: 'user_id', value: 'WebhookEndpoints', cleanup: 'compact', retentionMs: -1, doc: 'webhook endpoints, secrets encrypted' },
  deliveryEmail: { base: 'notification.delivery.email', key: 'user_id', value: 'DeliveryCommand', cleanup: 'delete', retentionMs: 7 * DAY, doc: 'e-mail delivery commands' },
  deliveryEmailPriority: { base: 'notification.delivery.email.priority', key: 'user_id', value: 'DeliveryCommand', cleanup: 'delete', retentionMs: 7 * DAY, doc: 'e-mail delivery commands of mandatory types and critical severity: a lane of their own, so they never wait behind bulk e-mails while a rate limit holds' },
  deliveryEmailRetry: { base: 'notification.delivery.email.retry', key: 'user_id', value: 'DeliveryCommand', cleanup: 'delete', retentionMs: 7 * DAY, tiered: true, doc: 'e-mail deliveries waiting for their next attempt, one topic per delay of the retry schedule; due time and attempt in headers' },
  deliveryEmailDlq: { base: 'notification.delivery.email.dlq', key: 'user_id', value: 'DeliveryCommand', cleanup: 'delete', retentionMs: 90 * DAY, doc: 'e-mail deliveries refused by the SMTP server (5xx) or that failed their last attempt, reason, status and attempts in headers' },
  deliveryWebhook: { base: 'notification.delivery.webhook', key: 'user_id', value: 'DeliveryCommand', cleanup: 'delete', retentionMs: 7 * DAY, doc: 'webhook delivery commands' },
  deliveryWebhookRetry: { base: 'notification.delivery.webhook.retry', key: 'user_id', value: 'DeliveryCommand', cleanup: 'delete', retentionMs: 7 * DAY, tiered: true, doc: 'webhook deliveries waiting for their next attempt, one topic per delay of the retry schedule; due time and attempt in headers' },
  deliveryWebhookDlq: { base: 'notification.delivery.webhook.dlq', key: 'user_id', value: 'DeliveryCommand', cleanup: 'delete', retentionMs: 90 * DAY, doc: 'webhook deliveries that failed their last attempt or cannot succeed, reason, status and attempts in headers' },
  deliveryResults: { base: 'notification.delivery.results', key: 'user_id', value: 'DeliveryResult', cleanup: 'delete', retentionMs: 30 * DAY, doc: 'delivery attempt outcomes' },
  reads: { base: 'notification.reads', key: 'user_id', value: 'ReadEvent', cleanup: 'delete', retentionMs: -1, doc: 'read / read-all / archive' },
  timers: { base: 'notification.timers', key: 'timer key', value: 'Timer', cleanup: 'delete', retentionMs: 7 * DAY, doc: 'delayed events to schedule and cancels of them, from dedupe: the scheduler\'s input' },
  scheduled: { base: 'notification.scheduled', key: 'timer key', value: 'Timer', cleanup: 'compact', retentionMs: -1, doc: 'changelog of the scheduler\'s timer table: pending timers and recent cancels' },
  audit: { base: 'notification.audit', key: 'user_id', value: 'AuditEvent', cleanup: 'delete', retentionMs: -1, doc: 'security events for the audit log' },
  dlqRedrives: { base: 'notification.dlq.redrives', key: 'dead letter', value: 'DeadLetterRedrive', cleanup: 'compact', retentionMs: -1, doc: 'dead letters an operator redrove, keyed by <dlq topic>:<partition>:<offset>' },
} as const satisfies Record<string, TopicSpec>;

export type TopicKey = keyof typeof TOPICS;

/** Topics whose values are Avro records of a schema in SCHEMAS. */
export type SchemaTopic = { [K in TopicKey]: (typeof TOPICS)[K]['value'] extends SchemaName ? K : never }[TopicKey];

/** The schema of a topic's values. */
export type TopicSchema<K extends SchemaTopic> = (typeof TOPICS)[K]['value'];

/** The TypeScript type of a topic's values. */
export type TopicValue<K extends SchemaTopic> = SchemaValue<TopicSchema<K>>;

/** The schema of a topic's values, typed by the topic. */
export function topicSchema<K extends SchemaTopic>(key: K): TopicSchema<K> {
  return TOPICS[key].value;
}

export function isSchemaName(value: string): value is SchemaName {
  return Object.hasOwn(SCHEMAS, value);
}

/** The delays (ms) of each tiered topic family, from the retry schedules in the configuration. */
export type Tiers = Readonly<Partial<Record<TopicKey, readonly number[]>>>;

/** A delay as a topic name suffix: 250ms, 4s, 5m, 2h. */
export function delayLabel(ms: number): string {
  if (!Number.isInteger(ms) || ms <= 0) throw new RangeError(`a delay tier must be a positive whole number of ms, got ${ms}`);
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** The delay of a topic name suffix that delayLabel writes (`250ms`, `4s`, `5m`, `2h`), or undefined for any other text. */
export function parseDelayLabel(label: string): number | undefined {
  const m = /^([1-9]\d{0,9})(ms|s|m|h)$/.exec(label);
  if (!m) return undefined;
  const ms = Number(m[1]) * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return delayLabel(ms) === label ? ms : undefined;
}

/**
 * The tiers of `tiers` and, for each tiered family, the delays of its tier
 * topics that exist (`existing`, the cluster's topic names) though the
 * schedule no longer names them: records waiting there when the schedule
 * changed are still read and attempted when due (their next retry takes the
 * schedule's tiers). Delays in ascending order.
 */
export function withExistingTiers(names: TopicNames, tiers: Tiers, existing: readonly string[]): Tiers {
  const result: Partial<Record<TopicKey, readonly number[]>> = { ...tiers };
  for (const key of Object.keys(TOPICS) as TopicKey[]) {
    if (!('tiered' in TOPICS[key])) continue;
    const base = `${names[key]}.`;
    const found = existing.filter((t) => t.startsWith(base)).map((t) => parseDelayLabel(t.slice(base.length))).filter((ms): ms is number => ms !== undefined);
    const all = [...new Set([...(tiers[key] ?? []), ...found])].sort((a, b) => a - b);
    if (all.length > 0) result[key] = all;
  }
  return result;
}

/** The topics of a tiered family, one per delay, in the order of the delays (duplicates once). */
export function tierTopics<K extends TopicKey>(names: TopicNames, key: K, tiers: Tiers): TopicName<K>[] {
  if (!('tiered' in TOPICS[key])) throw new TypeError(`${key} is not a tiered topic family`);
  return [...new Set((tiers[key] ?? []).map((ms) => `${names[key]}.${delayLabel(ms)}`))];
}

/** Every topic name of a deployment: each topic, and each tier of the tiered families. */
export function allTopics(names: TopicNames, tiers: Tiers): { key: TopicKey; name: string }[] {
  return (Object.keys(TOPICS) as TopicKey[]).flatMap((key) => ('tiered' in TOPICS[key]
    ? tierTopics(names, key, tiers).map((name) => ({ key, name }))
    : [{ key, name: names[key] }]));
}

/** The topics of `keys` (every topic with a schema when omitted) with their value schemas, as the codec registers them. */
export function valueSchemas(names: TopicNames, keys?: readonly SchemaTopic[], tiers: Tiers = {}): { topic: string; schema: SchemaName }[] {
  const chosen = new Set<TopicKey>(keys ?? (Object.keys(TOPICS) as TopicKey[]));
  return allTopics(names, tiers).flatMap(({ key, name }) => {
    const value: string = TOPICS[key].value;
    return chosen.has(key) && isSchemaName(value) ? [{ topic: name, schema: value }] : [];
  });
}

/**
 * A topic's name in one deployment, branded with its registry key so that
 * what is encoded for it is typed by its schema (a plain string where the type
 * is not known, such as a dead-letter topic written with original bytes).
 */
export type TopicName<K extends TopicKey> = string & { readonly topicKey?: K };

/** Topic names of one deployment (TIDINGS_TOPIC_PREFIX). */
export type TopicNames = { readonly [K in TopicKey]: TopicName<K> };

export function topicNames(prefix: string): TopicNames {
  const names: Record<string, string> = {};
  for (const key of Object.keys(TOPICS) as TopicKey[]) names[key] = `${prefix}${TOPICS[key].base}`;
  return Object.freeze(names) as TopicNames;
}

/** Subject of a topic's value schema (Confluent TopicNameStrategy). */
export function valueSubject(topicName: string): string {
  return `${topicName}-value`;
}

/** Broker configs for a topic. */
export function topicConfig(spec: TopicSpec, retentionMs = spec.retentionMs): { name: string; value: string }[] {
  const entries = [
    { name: 'cleanup.policy', value: spec.cleanup },
    { name: 'retention.ms', value: String(retentionMs) },
  ];
  // A compacted topic keeps the latest value per key; let the cleaner run soon after a segment rolls.
  if (spec.cleanup !== 'delete') entries.push({ name: 'min.cleanable.dirty.ratio', value: '0.1' }, { name: 'segment.ms', value: String(DAY) });
  return entries;
}

/**
 * The declared topology, in the spirit of Kafka Streams' Topology.describe():
 * every processor's sources, sinks and consumer group in one place, and the
 * one list of roles with the processors each runs. Adapters take their inputs,
 * outputs and group id from here; the transactional sink refuses any topic a
 * processor did not declare; `tidings topology` prints it and README's
 * topology table is checked against it (test/unit/topology.test.ts).
 *
 * Pure data: topics are keys of the registry in src/kafka/topics.ts.
 */
import { TOPICS, tierTopics, type SchemaName, type SchemaTopic, type Tiers, type TopicKey, type TopicNames } from './kafka/topics.ts';

/** How a processor writes its outputs, and so what it guarantees. */
export type SinkKind = 'kafka-transaction' | 'postgres-transaction' | 'sockets';

/** Each sink kind's name in README's topology table and `tidings topology`, and what it guarantees. */
export const SINK_KINDS: Readonly<Record<SinkKind, { label: string; guarantee: string }>> = {
  'kafka-transaction': { label: 'Kafka transaction', guarantee: 'outputs, dead letters and input offsets in one transaction' },
  'postgres-transaction': { label: 'Postgres transaction', guarantee: 'rows and input offsets in one transaction' },
  'sockets': { label: 'sockets', guarantee: 'frames to this instance\'s sockets; no offsets kept' },
};

export interface SourceDecl {
  readonly topic: SchemaTopic;
  /** a null value is passed to decide (a deleted row) instead of decoded */
  readonly tombstones?: boolean;
}

export interface ProcessorDecl {
  readonly sources: readonly SourceDecl[];
  /** topics the sink writes; nothing else is accepted */
  readonly sinks: readonly TopicKey[];
  /** where records that cannot be processed go */
  readonly deadLetters?: TopicKey;
  /** Postgres tables written, for a postgres-transaction sink */
  readonly rows?: readonly string[];
  readonly sink: SinkKind;
  /** 'shared': one group for every instance; 'per-instance': each instance reads everything */
  readonly group: 'shared' | 'per-instance';
  /** where a group without offsets starts */
  readonly start: 'beginning' | 'end';
}

function webhookLane<T extends 'deliveryWebhook' | 'deliveryWebhookRetry'>(topic: T) {
  return {
    sources: [{ topic }],
    sinks: ['deliveryResults', 'deliveryWebhookRetry', 'deliveryWebhookDlq', 'webhooks', 'events'],
    deadLetters: 'deliveryWebhookDlq',
    sink: 'kafka-transaction',
    group: 'shared',
    start: 'beginning',
  } as const satisfies ProcessorDecl;
}

function emailLane<T extends 'deliveryEmail' | 'deliveryEmailPriority' | 'deliveryEmailRetry'>(topic: T) {
  return {
    sources: [{ topic }],
    sinks: ['deliveryResults', 'deliveryEmailRetry', 'deliveryEmailDlq'],
    deadLetters: 'deliveryEmailDlq',
    sink: 'kafka-transaction',
    group: 'shared',
    start: 'beginning',
  } as const satisfies ProcessorDecl;
}

export const PROCESSORS = {
  dedupe: {
    sources: [{ topic: 'events' }],
    sinks: ['events', 'dedupe', 'accepted', 'timers'],
    deadLetters: 'eventsDlq',
    sink: 'kafka-transaction',
    group: 'shared',
    start: 'beginning',
  },
  router: {
    sources: [{ topic: 'accepted' }, { topic: 'preferences', tombstones: true }, { topic: 'recipients', tombstones: true }, { topic: 'webhooks', tombstones: true }],
    sinks: ['inbox', 'deliveryEmail', 'deliveryEmailPriority', 'deliveryWebhook', 'audit'],
    deadLetters: 'acceptedDlq',
    sink: 'kafka-transaction',
    group: 'shared',
    start: 'beginning',
  },
  scheduler: {
    sources: [{ topic: 'timers' }],
    sinks: ['events', 'scheduled'],
    deadLetters: 'eventsDlq',
    sink: 'kafka-transaction',
    group: 'shared',
    start: 'beginning',
  },
  projector: {
    sources: [
      { topic: 'inbox' }, { topic: 'reads' },
      { topic: 'preferences', tombstones: true }, { topic: 'recipients', tombstones: true }, { topic: 'webhooks', tombstones: true },
      { topic: 'audit' }, { topic: 'deliveryResults' },
    ],
    sinks: [],
    deadLetters: 'acceptedDlq',
    rows: ['notifications', 'read_events', 'preferences', 'recipients', 'webhooks', 'audit_log', 'delivery_attempts', 'webhook_endpoint_stats'],
    sink: 'postgres-transaction',
    group: 'shared',
    start: 'beginning',
  },
  // Two lanes of webhook delivery: first attempts, and the retry tiers (src/processors/webhook/adapter.ts).
  webhook: webhookLane('deliveryWebhook'),
  'webhook-retry': webhookLane('deliveryWebhookRetry'),
  // The same lanes for e-mail, and a first-attempt lane for mandatory and critical e-mails (src/processors/email/adapter.ts).
  'email-priority': emailLane('deliveryEmailPriority'),
  email: emailLane('deliveryEmail'),
  'email-retry': emailLane('deliveryEmailRetry'),
  gateway: {
    sources: [{ topic: 'inbox' }, { topic: 'reads' }],
    sinks: [],
    sink: 'sockets',
    group: 'per-instance',
    start: 'end',
  },
} as const satisfies Record<string, ProcessorDecl>;

export type ProcessorName = keyof typeof PROCESSORS;

export interface RoleDecl {
  /** processors the role runs, in the order they start */
  readonly processors: readonly ProcessorName[];
  /** what it serves over HTTP, if anything */
  readonly serves?: string;
  /** topics its HTTP routes publish to */
  readonly publishes?: readonly TopicKey[];
}

/** The one list of roles (TIDINGS_ROLES) and what each runs, in start order. */
export const ROLE_TABLE = {
  ingest: { processors: [], serves: 'POST /v1/events', publishes: ['events'] },
  api: { processors: [], serves: 'the REST API under /v1 and /openapi.json', publishes: ['reads', 'preferences', 'recipients', 'webhooks', 'deliveryWebhook', 'deliveryEmail', 'deliveryEmailPriority', 'events', 'accepted', 'inbox', 'audit', 'deliveryResults', 'dlqRedrives'] },
  dedupe: { processors: ['dedupe'] },
  scheduler: { processors: ['scheduler'] },
  router: { processors: ['router'] },
  projector: { processors: ['projector'] },
  webhook: { processors: ['webhook', 'webhook-retry'] },
  email: { processors: ['email-priority', 'email', 'email-retry'] },
  gateway: { processors: ['gateway'], serves: 'WebSocket /v1/ws' },
} as const satisfies Record<string, RoleDecl>;

export type Role = keyof typeof ROLE_TABLE;

/** The processors `roles` run, in the topology's order. */
export function processorsOf(roles: readonly Role[]): ProcessorName[] {
  const wanted = new Set<ProcessorName>(roles.flatMap((role): readonly ProcessorName[] => ROLE_TABLE[role].processors));
  return (Object.keys(PROCESSORS) as ProcessorName[]).filter((name) => wanted.has(name));
}

/** The role that runs `processor`. */
export function roleOf(processor: ProcessorName): Role {
  const role = (Object.keys(ROLE_TABLE) as Role[]).find((r) => (ROLE_TABLE[r].processors as readonly ProcessorName[]).includes(processor));
  if (!role) throw new TypeError(`processor ${processor} is in no role`);
  return role;
}

/**
 * The consumer group of a processor, which also prefixes its transactional ids
 * and names its rows in consumer_offsets: `<prefix>tidings.<name>`, plus
 * `.<instanceId>` for a per-instance group.
 * @throws TypeError for a per-instance group without an instance id
 */
export function groupId(processor: ProcessorName, prefix: string, instanceId?: string): string {
  const shared = `${prefix}tidings.${processor}`;
  if (PROCESSORS[processor].group === 'shared') return shared;
  if (instanceId === undefined) throw new TypeError(`the ${processor} group is per instance: an instance id is needed`);
  return `${shared}.${instanceId}`;
}

/** How a registry key's topic is written in the topology: its name, or `<name>.<delay>` for a tiered family. */
export function topicLabel(key: TopicKey, names: TopicNames): string {
  return 'tiered' in TOPICS[key] ? `${names[key]}.<delay>` : names[key];
}

/** The topic names of a registry key: the topic, or each tier of a tiered family. */
function namesOf(key: TopicKey, names: TopicNames, tiers: Tiers): string[] {
  return 'tiered' in TOPICS[key] ? tierTopics(names, key, tiers) : [names[key]];
}

/** A processor's sources as the runner reads them: topic name, value schema, tombstones (each tier of a tiered source). */
export function sourcesOf(processor: ProcessorName, names: TopicNames, tiers: Tiers = {}): { topic: string; schema: SchemaName; tombstones?: boolean }[] {
  return PROCESSORS[processor].sources.flatMap((s: SourceDecl) => namesOf(s.topic, names, tiers)
    .map((topic) => ({ topic, schema: TOPICS[s.topic].value, ...(s.tombstones ? { tombstones: true } : {}) })));
}

/** Whether a processor's group without offsets starts at the beginning of its sources (else at their end). */
export function fromBeginning(processor: ProcessorName): boolean {
  const decl: ProcessorDecl = PROCESSORS[processor];
  return decl.start === 'beginning';
}

/** The topic names a processor's sink may write: its sinks and its dead-letter topic. */
export function sinkTopicsOf(processor: ProcessorName, names: TopicNames, tiers: Tiers = {}): string[] {
  const decl: ProcessorDecl = PROCESSORS[processor];
  return [...decl.sinks, ...(decl.deadLetters ? [decl.deadLetters] : [])].flatMap((key) => namesOf(key, names, tiers));
}

/**
 * The Kafka client and topic administration. kafkajs is imported here and in
 * the rest of src/kafka only.
 */
import kafkajs, { Kafka, logLevel, type Admin, type ITopicConfig, type LogEntry, type ProducerConfig, type Producer } from 'kafkajs';
import { errorKind, TransientError } from '../errors.ts';
import { withRetry } from './retry.ts';
import { javaCompatiblePartitioner, partitionOfKey } from './murmur2.ts';
import type { Logger } from '../logger.ts';
import { TOPICS, allTopics, topicConfig, topicNames, type TopicKey, type TopicNames, type Tiers } from './topics.ts';

export type { Kafka };

// Not found by Node's named-export detection of the CommonJS module; read from its default export.
const { ConfigResourceTypes } = kafkajs;

/** Every producer of Tidings: the Java client's placement (murmur2 of the key, javaCompatiblePartitioner), stated so it never changes under us. */
export function createProducer(kafka: Kafka, config: ProducerConfig): Producer {
  return kafka.producer({ createPartitioner: javaCompatiblePartitioner, allowAutoTopicCreation: false, ...config });
}

export { partitionOfKey };

/** What a producer must know of a topic to place and size its records. */
export interface TopicLimits {
  partitions: number;
  /** bytes: the largest record batch the topic accepts (its max.message.bytes) */
  maxMessageBytes: number;
}

/** Partition count and max.message.bytes of each topic, as the cluster has them now. */
export async function topicLimits(kafka: Kafka, topics: string[]): Promise<Map<string, TopicLimits>> {
  return withAdmin(kafka, (admin) => withRetry(async () => {
    const { topics: found } = await admin.fetchTopicMetadata({ topics });
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['max.message.bytes'] })),
    });
    const limits = new Map<string, TopicLimits>();
    for (const topic of found) {
      const entry = resources.find((r) => r.resourceName === topic.name)?.configEntries.find((c) => c.configName === 'max.message.bytes');
      const maxMessageBytes = Number(entry?.configValue);
      if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes <= 0) throw new TransientError(`topic ${topic.name} did not tell its max.message.bytes`);
      limits.set(topic.name, { partitions: topic.partitions.length, maxMessageBytes });
    }
    return limits;
  }));
}

/** bytes: the largest request the brokers accept (the smallest socket.request.max.bytes among them). */
export async function requestLimit(kafka: Kafka): Promise<number> {
  return withAdmin(kafka, (admin) => withRetry(async () => {
    const { brokers } = await admin.describeCluster();
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: brokers.map((b) => ({ type: ConfigResourceTypes.BROKER, name: String(b.nodeId), configNames: ['socket.request.max.bytes'] })),
    });
    const values = resources.flatMap((r) => r.configEntries.filter((c) => c.configName === 'socket.request.max.bytes').map((c) => Number(c.configValue)));
    const valid = values.filter((v) => Number.isSafeInteger(v) && v > 0);
    // 100 MiB is Kafka's default; a broker that does not say is taken to have it.
    return valid.length > 0 ? Math.min(...valid) : 100 * 1024 * 1024;
  }));
}

/** Limits read from the cluster once per client and topic, and read again after a failed read. */
export interface ClusterLimits {
  topic(name: string): Promise<TopicLimits>;
  /** bytes: the largest request the brokers accept */
  request(): Promise<number>;
}

const clusterLimitsOf = new WeakMap<Kafka, ClusterLimits>();

/** The one cache of `kafka`'s cluster limits, shared by its sinks, publisher and processors. */
export function clusterLimits(kafka: Kafka): ClusterLimits {
  let found = clusterLimitsOf.get(kafka);
  if (!found) {
    const topics = new Map<string, Promise<TopicLimits>>();
    let request: Promise<number> | undefined;
    found = {
      topic(name) {
        let limit = topics.get(name);
        if (!limit) {
          limit = topicLimits(kafka, [name]).then((all) => {
            const one = all.get(name);
            if (!one) throw new TypeError(`topic ${name} does not exist`);
            return one;
          });
          limit.catch(() => topics.delete(name));
          topics.set(name, limit);
        }
        return limit;
      },
      request() {
        if (!request) {
          request = requestLimit(kafka);
          request.catch(() => { request = undefined; });
        }
        return request;
      },
    };
    clusterLimitsOf.set(kafka, found);
  }
  return found;
}

export interface KafkaOptions {
  brokers: string[];
  clientId: string;
  log: Logger;
}

export function createKafka({ brokers, clientId, log }: KafkaOptions): Kafka {
  const kafkaLog = log.child({ component: 'kafkajs' });
  return new Kafka({
    clientId,
    brokers,
    connectionTimeout: 3_000, // ms
    requestTimeout: 30_000, // ms
    retry: { initialRetryTime: 200, retries: 10, maxRetryTime: 10_000 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...extra } = entry.log;
      kafkaLog[kafkajsLevel(entry.level, entry.namespace, message)]({ namespace: entry.namespace, ...extra }, message);
    },
  });
}

/** kafkajs' message for CONCURRENT_TRANSACTIONS (error code 51). */
const CONCURRENT_TRANSACTIONS = 'another concurrent operation on the same transaction was ongoing';

/**
 * The level a kafkajs log entry is logged at. kafkajs logs every failed
 * request of a connection as an error, though it retries them (a coordinator
 * still loading, say): a warning. A transactional produce answered
 * CONCURRENT_TRANSACTIONS (the partition's previous commit still writing its
 * markers, a few ms) is routine and retried at once: debug. What kafkajs gives
 * up on surfaces from the call itself, and the sink logs it.
 */
export function kafkajsLevel(level: number, namespace: string, message: string): 'error' | 'warn' | 'info' | 'debug' {
  if (level === logLevel.ERROR && namespace === 'Producer' && message.includes(CONCURRENT_TRANSACTIONS)) return 'debug';
  if (level === logLevel.ERROR) return namespace === 'Connection' ? 'warn' : 'error';
  if (level === logLevel.WARN) return 'warn';
  if (level === logLevel.INFO) return 'info';
  return 'debug';
}

export interface TopicLayout {
  prefix: string;
  partitions: number;
  replicationFactor: number;
  /** ms; retention of particular topics instead of the registry's */
  retentionMs?: Partial<Record<TopicKey, number>>;
  /** delays of the tiered topic families (retry schedules) */
  tiers?: Tiers;
}

/**
 * Creates every topic of the registry that does not exist yet; existing topics
 * are left as they are. Returns the names it created.
 */
export async function ensureTopics(kafka: Kafka, layout: TopicLayout): Promise<string[]> {
  const names = topicNames(layout.prefix);
  const admin = await connectAdmin(kafka);
  try {
    const existing = new Set(await admin.listTopics());
    const missing = allTopics(names, layout.tiers ?? {}).filter(({ name }) => !existing.has(name));
    if (missing.length === 0) return [];
    await createTopicsAndWait(admin, missing.map(({ key, name }) => ({
      topic: name,
      numPartitions: layout.partitions,
      replicationFactor: layout.replicationFactor,
      configEntries: topicConfig(TOPICS[key], layout.retentionMs?.[key]),
    })));
    return missing.map(({ name }) => name);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Creates topics and waits until every partition has a leader that serves its
 * offsets. kafkajs' waitForLeaders retries only LEADER_NOT_AVAILABLE, while a
 * KRaft broker that has not applied the new topic yet answers
 * UNKNOWN_TOPIC_OR_PARTITION, and createTopics then fails although the topics
 * are being created. Every such answer is retriable and waited out.
 */
export async function createTopicsAndWait(admin: Admin, topics: ITopicConfig[], timeoutMs = 30_000): Promise<void> {
  await admin.createTopics({ waitForLeaders: false, topics });
  const names = topics.map((t) => t.topic);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics: names });
      if (found.length === names.length && found.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) {
        // A leader in the metadata may not serve its log yet (3.9 and 4.1 answer
        // NOT_LEADER_FOR_PARTITION to ListOffsets right after creation); listing
        // every partition's offsets proves that it does.
        for (const name of names) await admin.fetchTopicOffsets(name);
        return;
      }
    } catch (err) {
      if (errorKind(err) !== 'transient') throw err;
    }
    if (Date.now() > deadline) throw new TransientError(`topics ${names.join(', ')} did not serve offsets after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A connected admin client that knows the cluster's brokers. After connect,
 * kafkajs' admin knows only the seed broker: the first request that needs a
 * broker of the cluster (describeGroups, fetchOffsets, …) found none, fetched
 * metadata and tried again after its retry backoff (~300 ms). Metadata of no
 * topic, one round trip, fills the broker pool first.
 */
export async function connectAdmin(kafka: Kafka): Promise<Admin> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.describeCluster();
  } catch (err) {
    await admin.disconnect();
    throw err;
  }
  return admin;
}

/** Runs `fn` with a connected admin client. */
export async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = await connectAdmin(kafka);
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** The first and the next (end) offset of every partition of `topic`. */
export async function partitionOffsets(kafka: Kafka, topic: string): Promise<{ partition: number; low: string; high: string }[]> {
  // kafkajs' admin retries only UNKNOWN_TOPIC_OR_PARTITION here; a leader that
  // moved or is still loading (NOT_LEADER_FOR_PARTITION) is worth a retry too.
  return withAdmin(kafka, (admin) => withRetry(async () =>
    (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, low: p.low, high: p.high }))));
}

/** The cluster's id (KIP-78): another cluster means other offsets. */
export async function clusterId(kafka: Kafka): Promise<string> {
  return withAdmin(kafka, (admin) => withRetry(async () => (await admin.describeCluster()).clusterId));
}

/** The current end offset of every partition of `topic`. */
export async function endOffsets(kafka: Kafka, topic: string): Promise<{ partition: number; offset: string }[]> {
  return (await partitionOffsets(kafka, topic)).map((p) => ({ partition: p.partition, offset: p.high }));
}

export { topicNames, type TopicNames };

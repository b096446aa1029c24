/**
 * Consumer-lag scenarios on a real broker, for grading by Burrow and by
 * Tidings' lag monitor: a feed produces records to every partition of a topic
 * at a steady rate, and consumer groups named `<prefix>tidings.burrow-<name>`
 * (the monitor watches every group starting with `<prefix>tidings.`) consume
 * it in four ways:
 *   healthy  keeps up, commits every commitEveryMs;
 *   lagging  consumes and commits, but slower than the feed produces;
 *   stopped  keeps up and commits until halt(), then disconnects while records keep arriving;
 *   stalled  stays a member and keeps committing, but on one partition always the same offset.
 * Every commit names its offsets explicitly (autoCommit off), so the cadence is a setting.
 */
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';

export type ScenarioName = 'healthy' | 'lagging' | 'stopped' | 'stalled';
export const SCENARIOS: readonly ScenarioName[] = ['healthy', 'lagging', 'stopped', 'stalled'];

export function scenarioGroup(prefix: string, name: ScenarioName): string {
  return `${prefix}tidings.burrow-${name}`;
}

export function scenarioKafka(brokers: string[]): Kafka {
  return new Kafka({ clientId: 'lag-scenarios', brokers, logLevel: logLevel.NOTHING });
}

export async function createScenarioTopic(kafka: Kafka, topic: string, partitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

export interface Feed {
  /** records written so far, per partition */
  produced: number[];
  stop(): Promise<void>;
}

/** Writes one record to each of the topic's partitions every `everyMs` until stop(). */
export async function startFeed(kafka: Kafka, topic: string, partitions: number, everyMs: number): Promise<Feed> {
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const produced = Array.from({ length: partitions }, () => 0);
  let running = true;
  let failure: Error | undefined;
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      try {
        await producer.send({ topic, messages: produced.map((n, partition) => ({ partition, key: `p${partition}`, value: `record ${n}` })) });
        produced.forEach((_, p) => { produced[p]! += 1; });
      } catch (err) {
        failure = err as Error;
        running = false;
      }
      await sleep(Math.max(0, everyMs - (Date.now() - started)));
    }
  })();
  return {
    produced,
    async stop() {
      running = false;
      await loop;
      await producer.disconnect();
      if (failure) throw failure;
    },
  };
}

export interface ScenarioOptions {
  prefix: string;
  topic: string;
  /** ms between two commits of the group */
  commitEveryMs: number;
  /** lagging: ms spent on each record (per partition, the partitions are consumed concurrently) */
  msPerRecord?: number;
  /** stalled: the partition whose committed offset never moves */
  stalledPartition?: number;
}

export interface Scenario {
  name: ScenarioName;
  group: string;
  /** the offset last committed, per partition */
  committed: Map<number, bigint>;
  /** commits so far */
  commits: number;
  /** stopped: stop committing and leave the group (the feed goes on) */
  halt(): Promise<void>;
  stop(): Promise<void>;
}

/** Joins the scenario's group on `topic` from the beginning and commits every commitEveryMs as the scenario says. */
export async function startScenario(kafka: Kafka, name: ScenarioName, options: ScenarioOptions): Promise<Scenario> {
  const group = scenarioGroup(options.prefix, name);
  const lagging = name === 'lagging';
  const consumer: Consumer = kafka.consumer({
    groupId: group,
    // Small fetches, so that a slow consumer moves on every partition between two commits.
    maxBytesPerPartition: lagging ? 512 : 1024 * 1024,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
  });
  const stalledPartition = name === 'stalled' ? options.stalledPartition ?? 1 : undefined;
  /** the next offset to read, per partition: what a commit names */
  const next = new Map<number, bigint>();
  let frozenAt: bigint | undefined;
  const msPerRecord = lagging ? options.msPerRecord ?? 500 : 0;

  await consumer.connect();
  await consumer.subscribe({ topic: options.topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: 4,
    eachMessage: async ({ partition, message }) => {
      if (partition === stalledPartition && frozenAt !== undefined) return;
      if (msPerRecord > 0) await sleep(msPerRecord);
      next.set(partition, BigInt(message.offset) + 1n);
    },
  });

  const scenario: Scenario = {
    name,
    group,
    committed: new Map(),
    commits: 0,
    halt: () => leave(),
    stop: () => leave(),
  };

  let running = true;
  let left: Promise<void> | undefined;
  const leave = () => {
    running = false;
    left ??= loop.then(() => consumer.disconnect());
    return left;
  };
  const commitOnce = async () => {
    if (stalledPartition !== undefined && frozenAt === undefined && next.has(stalledPartition)) {
      // From its first commit on, the stalled partition is not read any further.
      frozenAt = next.get(stalledPartition);
      consumer.pause([{ topic: options.topic, partitions: [stalledPartition] }]);
    }
    const offsets = [...next].map(([partition, offset]) => ({
      topic: options.topic, partition, offset: String(partition === stalledPartition && frozenAt !== undefined ? frozenAt : offset),
    }));
    if (offsets.length === 0) return;
    await consumer.commitOffsets(offsets);
    for (const o of offsets) scenario.committed.set(o.partition, BigInt(o.offset));
    scenario.commits += 1;
  };
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      // A commit refused during a rebalance is retried at the next tick.
      await commitOnce().catch(() => undefined);
      await sleepWhile(() => running, Math.max(0, options.commitEveryMs - (Date.now() - started)));
    }
  })();
  return scenario;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Sleeps `ms`, returning early once `condition` no longer holds. */
async function sleepWhile(condition: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (condition() && Date.now() < until) await sleep(Math.min(50, until - Date.now()));
}

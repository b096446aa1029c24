/**
 * A table of the latest value per key over every partition of a compacted
 * topic (a "global table"): each process reads the whole topic with its own
 * never-committing consumer, is ready once it has caught up with the end
 * offsets seen at start, and keeps following the topic afterwards. Used where
 * a lookup crosses partitions, such as "every user with role admin". If it
 * stops following after start, `onCrash` is told: a table that no longer
 * follows its topic would answer from stale data.
 */
import { randomUUID } from 'node:crypto';
import kafkajs, { type Consumer } from 'kafkajs';
import type { Kafka } from './client.ts';
import { partitionOffsets } from './client.ts';
import { errorKind, TransientError } from '../errors.ts';
import type { Logger } from '../logger.ts';

// kafkajs spreads its errors into module.exports, which Node's ESM loader cannot see as named exports.
const { KafkaJSNonRetriableError } = kafkajs;

export interface GlobalTable<V> {
  get(key: string): V | undefined;
  entries(): IterableIterator<[string, V]>;
  stop(): Promise<void>;
}

export interface GlobalTableOptions<V> {
  kafka: Kafka;
  topic: string;
  decode(value: Buffer): Promise<V>;
  log: Logger;
  /** called when the consumer stops for good after start (before, the start fails instead); the process should exit */
  onCrash(err: Error): void;
  /** ms to catch up at start */
  timeoutMs?: number;
}

/** Starts following the topic; resolves once the table holds everything written before the call. */
export async function startGlobalTable<V>(options: GlobalTableOptions<V>): Promise<GlobalTable<V>> {
  const map = new Map<string, V>();
  const targets = new Map((await partitionOffsets(options.kafka, options.topic))
    .filter((p) => BigInt(p.high) > BigInt(p.low))
    .map((p) => [p.partition, BigInt(p.high)]));
  let caughtUp: () => void = () => {};
  let failed: (err: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => { caughtUp = resolve; failed = reject; });
  if (targets.size === 0) caughtUp();

  let started = false;
  let stopping = false;
  const consumer: Consumer = options.kafka.consumer({ groupId: `tidings-global-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 250, allowAutoTopicCreation: false });
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const target = targets.get(payload.partition);
    if (target !== undefined && BigInt(payload.lastOffset) + 1n >= target) targets.delete(payload.partition);
    if (targets.size === 0) caughtUp();
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (stopping) return;
    if (!started) {
      options.log.error({ err: payload.error, topic: options.topic }, 'global table stopped following its topic');
      failed(payload.error);
    } else if (payload.restart) {
      options.log.warn({ err: payload.error, topic: options.topic }, 'global table consumer crashed; kafkajs restarts it');
    } else {
      options.log.error({ err: payload.error, topic: options.topic }, 'global table stopped following its topic');
      options.onCrash(payload.error);
    }
  });
  await consumer.connect();
  await consumer.subscribe({ topic: options.topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) {
        const key = message.key?.toString('utf8');
        if (key === undefined) continue;
        if (message.value === null) {
          map.delete(key);
          continue;
        }
        try {
          map.set(key, await options.decode(message.value));
        } catch (err) {
          const kind = errorKind(err);
          // A bug does not go away when retried. kafkajs stops at once only on TypeError and its kin; any other error it
          // retries for a minute and then restarts for ever. Non-retriable, it stops (CRASH without restart) and onCrash hears.
          if (kind === 'bug') throw Object.assign(new KafkaJSNonRetriableError(err as Error), { cause: err });
          if (kind !== 'poison') throw err;
          // Whoever reads the topic as an input dead-letters the record; the table keeps the key's previous value.
          options.log.warn({ topic: options.topic, partition: batch.partition, offset: message.offset, reason: (err as Error).message }, 'skipping an undecodable record');
        }
      }
    },
  });

  const timeoutMs = options.timeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([ready, new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TransientError(`global table ${options.topic} did not catch up within ${timeoutMs} ms`)), timeoutMs);
    })]);
  } catch (err) {
    await consumer.disconnect();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  started = true;
  options.log.info({ topic: options.topic, keys: map.size }, 'global table caught up');
  return {
    get: (key) => map.get(key),
    entries: () => map.entries(),
    stop: () => {
      stopping = true;
      return consumer.disconnect();
    },
  };
}

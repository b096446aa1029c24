/**
 * A table of the latest value per key, kept per partition in memory and
 * restored from a compacted changelog topic: the same mechanism for the dedupe
 * store and for the preference, recipient and webhook tables.
 *
 * A processor reads it while deciding, stages its writes per partition while a
 * batch is decided, and the runner commits the staged writes once the sink has
 * committed the batch (or drops them if it failed). The changelog records
 * themselves are outputs of the processor, written in the same Kafka
 * transaction as everything else, so table and log never disagree.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from './client.ts';
import { partitionOffsets } from './client.ts';
import { errorKind, TransientError } from '../errors.ts';
import type { Logger } from '../logger.ts';

export interface TableOptions<V> {
  kafka: Kafka;
  /** the compacted changelog topic */
  topic: string;
  /** value of a changelog record; undefined drops the record (for example, expired) */
  decode(value: Buffer): Promise<V | undefined>;
  log: Logger;
  /** ms a restore may take before it fails */
  restoreTimeoutMs?: number;
}

export interface Table<V> {
  /** Restores the partition from the changelog unless it is already loaded; calls `progress` after each fetched batch. */
  load(partition: number, progress?: () => void): Promise<void>;
  /** The value, staged writes first. */
  get(partition: number, key: string): V | undefined;
  /** Stages a write (undefined deletes); visible to get() at once, kept only after commit(). */
  stage(partition: number, key: string, value: V | undefined): void;
  commit(partition: number): void;
  rollback(partition: number): void;
  /** The changelog offset the partition was restored up to (exclusive); records below it are in the table. */
  restoredTo(partition: number): bigint;
  /** Every committed entry of a partition (for expiry scans). */
  entries(partition: number): IterableIterator<[string, V]>;
  /** Forgets every partition: after a rebalance they are restored again when next used. */
  reset(): void;
  size(partition: number): number;
}

const DELETED = Symbol('deleted');

export function createTable<V>(options: TableOptions<V>): Table<V> {
  const committed = new Map<number, Map<string, V>>();
  const restoredUpTo = new Map<number, bigint>();
  const staged = new Map<number, Map<string, V | typeof DELETED>>();
  const loading = new Map<number, Promise<void>>();
  let generation = 0;

  const partitionMap = (partition: number) => {
    const map = committed.get(partition);
    if (!map) throw new TypeError(`partition ${partition} of ${options.topic} is not loaded`);
    return map;
  };

  return {
    async load(partition, progress) {
      if (committed.has(partition)) return;
      let pending = loading.get(partition);
      if (!pending) {
        const started = generation;
        pending = restorePartition(options, partition, progress).then(({ map, upTo }) => {
          if (started !== generation) return;
          committed.set(partition, map);
          restoredUpTo.set(partition, upTo);
        }).finally(() => loading.delete(partition));
        loading.set(partition, pending);
      }
      await pending;
      if (!committed.has(partition)) await this.load(partition, progress); // a reset raced the restore
    },

    get(partition, key) {
      const write = staged.get(partition)?.get(key);
      if (write === DELETED) return undefined;
      if (write !== undefined) return write;
      return partitionMap(partition).get(key);
    },

    stage(partition, key, value) {
      let writes = staged.get(partition);
      if (!writes) {
        writes = new Map();
        staged.set(partition, writes);
      }
      writes.set(key, value === undefined ? DELETED : value);
    },

    commit(partition) {
      const writes = staged.get(partition);
      if (!writes) return;
      const map = partitionMap(partition);
      for (const [key, value] of writes) {
        if (value === DELETED) map.delete(key);
        else map.set(key, value);
      }
      staged.delete(partition);
    },

    rollback(partition) {
      staged.delete(partition);
    },

    restoredTo(partition) {
      return restoredUpTo.get(partition) ?? 0n;
    },

    entries(partition) {
      return partitionMap(partition).entries();
    },

    reset() {
      generation += 1;
      committed.clear();
      restoredUpTo.clear();
      staged.clear();
    },

    size(partition) {
      return committed.get(partition)?.size ?? 0;
    },
  };
}

/**
 * Reads one changelog partition from its start to its current end with
 * read_committed, keeping the latest value per key. kafkajs has no manual
 * assignment, so a consumer of a fresh, never-committed group reads the topic
 * and pauses the partitions it does not need.
 */
async function restorePartition<V>(options: TableOptions<V>, partition: number, progress?: () => void): Promise<{ map: Map<string, V>; upTo: bigint }> {
  const log = options.log.child({ table: options.topic, partition });
  const started = Date.now();
  const map = new Map<string, V>();
  const offsets = (await partitionOffsets(options.kafka, options.topic)).find((p) => p.partition === partition);
  const target = BigInt(offsets?.high ?? '0');
  if (target <= BigInt(offsets?.low ?? '0')) return { map, upTo: target }; // empty, or everything deleted by retention

  const consumer = options.kafka.consumer({
    groupId: `tidings-restore-${randomUUID()}`,
    readUncommitted: false,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: 4 * 1024 * 1024,
  });
  let finish: () => void = () => {};
  let fail: (err: Error) => void = () => {};
  const done = new Promise<void>((resolve, reject) => { finish = resolve; fail = reject; });
  const timeout = setTimeout(
    () => fail(new TransientError(`restoring ${options.topic}[${partition}] took longer than ${options.restoreTimeoutMs ?? 60_000} ms`)),
    options.restoreTimeoutMs ?? 60_000,
  );

  // Also fires for batches holding only commit markers or aborted records, which eachBatch never sees.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.partition === partition && BigInt(payload.lastOffset) + 1n >= target) finish();
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => fail(payload.error));

  try {
    await consumer.connect();
    await consumer.subscribe({ topic: options.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        progress?.();
        if (batch.partition !== partition) {
          consumer.pause([{ topic: options.topic, partitions: [batch.partition] }]);
          return;
        }
        for (const message of batch.messages) {
          if (BigInt(message.offset) >= target) break;
          const key = message.key?.toString('utf8');
          if (key === undefined) throw new Error(`changelog ${options.topic} has a record without key at offset ${message.offset}`);
          let value: V | undefined;
          try {
            value = message.value === null ? undefined : await options.decode(message.value);
          } catch (err) {
            if (errorKind(err) !== 'poison') throw err;
            // The processor reading this topic as an input dead-letters the record; the table keeps the key's previous value.
            log.warn({ offset: message.offset, reason: (err as Error).message }, 'skipping an undecodable changelog record');
            continue;
          }
          if (value === undefined) map.delete(key);
          else map.set(key, value);
        }
      },
    });
    await done;
  } finally {
    clearTimeout(timeout);
    await consumer.disconnect();
  }
  log.info({ keys: map.size, ms: Date.now() - started, endOffset: target.toString() }, 'table partition restored');
  return { map, upTo: target };
}

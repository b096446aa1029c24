/**
 * Reads chosen offset ranges of a topic's partitions once, with read_committed,
 * for tools that look at a topic rather than process it (dead-letter listing).
 * kafkajs has no manual assignment, so a consumer of a fresh, never-committed
 * group reads the topic, seeks each wanted partition to the start of its range
 * and pauses it at the range's end; it commits nothing and is disconnected
 * before the call returns, so no group lingers with offsets.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from './client.ts';
import { TransientError } from '../errors.ts';

/** One partition's offsets `from` (inclusive) to `to` (exclusive). */
export interface OffsetRange {
  partition: number;
  from: bigint;
  to: bigint;
}

/** A record as read: raw key, value and headers as strings. */
export interface RawTopicRecord {
  partition: number;
  offset: bigint;
  /** ms since the epoch (the record's CreateTime) */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/**
 * Calls `onRecord` for every committed record of the ranges, in offset order
 * within a partition (partitions interleave). Aborted records and transaction
 * markers are skipped, so a range may yield fewer records than it spans.
 * @throws TransientError when the ranges are not read within `timeoutMs`
 */
export async function readRanges(kafka: Kafka, topic: string, ranges: readonly OffsetRange[], onRecord: (record: RawTopicRecord) => void | Promise<void>, timeoutMs = 30_000): Promise<void> {
  const wanted = new Map(ranges.filter((r) => r.to > r.from).map((r) => [r.partition, r]));
  if (wanted.size === 0) return;
  const pending = new Set(wanted.keys());
  // The first fetch may start from the beginning before the seek is applied, and the seek then reads some records again.
  const next = new Map([...wanted].map(([p, r]) => [p, r.from]));
  const consumer = kafka.consumer({ groupId: `tidings-reader-${randomUUID()}`, readUncommitted: false, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 });
  let finish: () => void = () => {};
  let fail: (err: Error) => void = () => {};
  const done = new Promise<void>((resolve, reject) => { finish = resolve; fail = reject; });
  const timer = setTimeout(() => fail(new TransientError(`reading ${topic} took longer than ${timeoutMs} ms`)), timeoutMs);
  const settle = (partition: number) => {
    if (!pending.delete(partition)) return;
    consumer.pause([{ topic, partitions: [partition] }]);
    if (pending.size === 0) finish();
  };
  // Also fires for batches of only commit markers or aborted records, which eachBatch never sees.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const range = wanted.get(payload.partition);
    if (range && BigInt(payload.lastOffset) + 1n >= range.to) settle(payload.partition);
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => fail(payload.error));
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const range = wanted.get(batch.partition);
        if (!range || !pending.has(batch.partition)) {
          consumer.pause([{ topic, partitions: [batch.partition] }]);
          return;
        }
        for (const m of batch.messages) {
          const offset = BigInt(m.offset);
          if (offset < (next.get(batch.partition) ?? range.from)) continue;
          if (offset >= range.to) break;
          next.set(batch.partition, offset + 1n);
          const headers = Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v.map(String).join(',') : String(v ?? '')]));
          await onRecord({ partition: batch.partition, offset, timestamp: Number(m.timestamp), key: m.key, value: m.value, headers });
        }
      },
    });
    // Applied before the first fetch of each partition once it is assigned.
    for (const range of wanted.values()) consumer.seek({ topic, partition: range.partition, offset: range.from.toString() });
    await done;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
}

/**
 * The offset after the last committed data record of each partition (what a
 * read_committed consumer's position is once it has read everything): the end
 * offset less the commit markers and aborted records at its tail. Reads the
 * last `window` offsets, then ten times more, until a data record is found or
 * the partition's start is reached (then its first offset: nothing to read).
 */
export async function lastDataPositions(kafka: Kafka, topic: string, partitions: readonly { partition: number; low: string; high: string }[], window = 64n): Promise<Map<number, bigint>> {
  const positions = new Map<number, bigint>();
  let open = partitions.map((p) => ({ partition: p.partition, low: BigInt(p.low), high: BigInt(p.high) }));
  for (let span = window; open.length > 0; span *= 10n) {
    const found = new Map<number, bigint>();
    const ranges = open.map((p) => ({ partition: p.partition, from: p.high - span > p.low ? p.high - span : p.low, to: p.high }));
    await readRanges(kafka, topic, ranges, (record) => {
      if (record.offset + 1n > (found.get(record.partition) ?? -1n)) found.set(record.partition, record.offset + 1n);
    });
    for (const range of ranges) {
      const at = found.get(range.partition);
      const p = open.find((o) => o.partition === range.partition)!;
      if (at !== undefined) positions.set(range.partition, at);
      else if (range.from === p.low) positions.set(range.partition, p.low);
    }
    open = open.filter((p) => !positions.has(p.partition));
  }
  return positions;
}

/**
 * Exactly-once into Postgres: a batch's rows and its input offsets are written
 * in one database transaction. The stored offset is read under a row lock, and
 * records below it are skipped, so a batch that Kafka delivers again after a
 * crash (between the database commit and the advisory Kafka commit) is not
 * applied twice. Dead letters are produced before the commit: at least once.
 *
 * Where the sink knows what it stored last on a partition, the transaction
 * starts by moving the offset on from exactly that (one round trip with
 * BEGIN: advanceOffsetStatement), which locks the row as well; only when
 * something else is stored (another owner wrote meanwhile) or nothing is
 * known (the first batch) is the offset read under the lock first. A batch:
 * BEGIN and the offset, the rows, COMMIT.
 */
import type { Sink, SinkBatch } from '../processor.ts';
import type { Client, Pool } from './pool.ts';
import { withTransaction } from './pool.ts';
import { advanceOffsetStatement, loadOffsets, lockOffset, storeOffset } from './consumer-offsets.ts';

export interface ProjectionSinkOptions<O> {
  pool: Pool;
  groupId: string;
  /** writes a batch's outputs, in order, each with its input's place; must only touch the database through `client` */
  applyOutputs(client: Client, outputs: readonly { output: O; at: { partition: number; offset: string } }[]): Promise<void>;
  /** sends dead letters (they cannot join a database transaction) */
  deadLetter(batch: SinkBatch<O>): Promise<void>;
  /** after the commit, e.g. to tell live views; never part of the guarantee */
  afterCommit?(batch: SinkBatch<O>): void;
}

export function createProjectionSink<O>(options: ProjectionSinkOptions<O>): Sink<O> {
  // The next offset this sink last stored, per `<topic>:<partition>`; dropped while a write is under way.
  const storedHere = new Map<string, bigint>();
  return {
    offsets: 'after-apply',

    startOffsets: (topic, partitions) => loadOffsets(options.pool, options.groupId, topic, partitions),

    async apply(batch) {
      if (batch.deadLetters.length > 0) await options.deadLetter(batch);
      const key = `${batch.topic}:${batch.partition}`;
      const next = BigInt(batch.nextOffset);
      const known = storedHere.get(key);
      storedHere.delete(key);
      const advance = known !== undefined && next > known ? advanceOffsetStatement(options.groupId, batch.topic, batch.partition, known, next) : undefined;
      const applied = await withTransaction(options.pool, async (client, advanced) => {
        const moved = advance !== undefined && advanced === 1;
        const stored = moved ? known! : await lockOffset(client, options.groupId, batch.topic, batch.partition);
        // Items come in offset order, so those applied before a crash are the first ones.
        const fresh = batch.items.filter((item) => BigInt(item.offset) >= stored);
        await options.applyOutputs(client, fresh.flatMap((item) => item.outputs.map((output) => ({ output, at: { partition: batch.partition, offset: item.offset } }))));
        const skipped = batch.items.length - fresh.length;
        if (!moved && next > stored) await storeOffset(client, options.groupId, batch.topic, batch.partition, batch.nextOffset);
        return { skipped, stored: next > stored ? next : stored };
      }, advance);
      storedHere.set(key, applied.stored);
      options.afterCommit?.(batch);
      return { skipped: applied.skipped };
    },

    async close() {},
  };
}

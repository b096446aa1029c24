/**
 * Exactly-once into Postgres: a batch's rows and its input offsets are written
 * in one database transaction. The stored offset is read under a row lock, and
 * records below it are skipped, so a batch that Kafka delivers again after a
 * crash (between the database commit and the advisory Kafka commit) is not
 * applied twice. Dead letters are produced before the commit: at least once.
 */
import type { Sink, SinkBatch } from '../processor.ts';
import type { Client, Pool } from './pool.ts';
import { withTransaction } from './pool.ts';
import { loadOffsets, lockOffset, storeOffset } from './consumer-offsets.ts';

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
  return {
    offsets: 'after-apply',

    startOffsets: (topic, partitions) => loadOffsets(options.pool, options.groupId, topic, partitions),

    async apply(batch) {
      if (batch.deadLetters.length > 0) await options.deadLetter(batch);
      const applied = await withTransaction(options.pool, async (client) => {
        const stored = await lockOffset(client, options.groupId, batch.topic, batch.partition);
        // Items come in offset order, so those applied before a crash are the first ones.
        const fresh = batch.items.filter((item) => BigInt(item.offset) >= stored);
        await options.applyOutputs(client, fresh.flatMap((item) => item.outputs.map((output) => ({ output, at: { partition: batch.partition, offset: item.offset } }))));
        const skipped = batch.items.length - fresh.length;
        if (BigInt(batch.nextOffset) > stored) await storeOffset(client, options.groupId, batch.topic, batch.partition, batch.nextOffset);
        return { skipped };
      });
      options.afterCommit?.(batch);
      return applied;
    },

    async close() {},
  };
}

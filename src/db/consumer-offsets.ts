/** Projection offsets: table `consumer_offsets`, the next offset per group, topic and partition, written in the same transaction as the rows they produced; read to know how far a projection has come. */
import pg from 'pg';
import type { Client, Pool } from './pool.ts';

/** Next offset to read per partition, for the partitions that have one. */
export async function loadOffsets(pool: Pool, groupId: string, topic: string, partitions: number[]): Promise<{ partition: number; offset: string }[]> {
  const result = await pool.query<{ partition: number; next_offset: string }>(
    'select partition, next_offset from consumer_offsets where group_id = $1 and topic = $2 and partition = any($3::int[])',
    [groupId, topic, partitions],
  );
  return result.rows.map((r) => ({ partition: r.partition, offset: String(r.next_offset) }));
}

/**
 * The stored next offset, locked until the transaction ends so two owners of
 * one partition serialise. One statement: the upsert's DO UPDATE (to the same
 * value) locks the row as SELECT … FOR UPDATE would and returns what is stored,
 * or 0 for a partition without a row yet.
 */
export async function lockOffset(client: Client, groupId: string, topic: string, partition: number): Promise<bigint> {
  const result = await client.query<{ next_offset: string }>(
    `insert into consumer_offsets (group_id, topic, partition, next_offset) values ($1, $2, $3, 0)
     on conflict (group_id, topic, partition) do update set next_offset = consumer_offsets.next_offset
     returning next_offset`,
    [groupId, topic, partition],
  );
  return BigInt(result.rows[0]?.next_offset ?? '0');
}

/**
 * A statement that moves the stored next offset from `expected` to `next`:
 * it updates one row, and locks it, only where `expected` is what is stored.
 * Without parameters, so that it can go with BEGIN in one round trip
 * (withTransaction's `first`).
 */
export function advanceOffsetStatement(groupId: string, topic: string, partition: number, expected: bigint, next: bigint): string {
  if (!Number.isInteger(partition)) throw new TypeError(`partition ${partition} is not an integer`);
  return `update consumer_offsets set next_offset = ${next.toString()}, updated_at = now()
     where group_id = ${pg.escapeLiteral(groupId)} and topic = ${pg.escapeLiteral(topic)} and partition = ${partition} and next_offset = ${expected.toString()}`;
}

export async function storeOffset(client: Client, groupId: string, topic: string, partition: number, nextOffset: string): Promise<void> {
  await client.query(
    'update consumer_offsets set next_offset = $4, updated_at = now() where group_id = $1 and topic = $2 and partition = $3',
    [groupId, topic, partition, nextOffset],
  );
}

/** The stored next offset of one partition (0 before any): whether a record is in the read models yet. */
export async function storedOffset(pool: Pool, groupId: string, topic: string, partition: number): Promise<bigint> {
  const result = await pool.query<{ next_offset: string }>('select next_offset from consumer_offsets where group_id = $1 and topic = $2 and partition = $3', [groupId, topic, partition]);
  return BigInt(result.rows[0]?.next_offset ?? '0');
}

/** The stored next offset of every partition of the group, keyed `<topic>:<partition>`. */
export async function storedOffsets(pool: Pool, groupId: string): Promise<Map<string, bigint>> {
  const { rows } = await pool.query<{ topic: string; partition: number; next_offset: string }>(
    'select topic, partition, next_offset from consumer_offsets where group_id = $1', [groupId]);
  return new Map(rows.map((r) => [`${r.topic}:${r.partition}`, BigInt(r.next_offset)]));
}

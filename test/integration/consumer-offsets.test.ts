/**
 * Projection offsets on the real Postgres: lockOffset returns the stored next
 * offset (0 for a partition without a row) and holds the row until the
 * transaction ends, so that a second owner of the partition waits for the
 * first one's commit and then sees the offset it stored.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { createPool, withTransaction } from '../../src/db/pool.ts';
import { migrate } from '../../src/db/migrate.ts';
import { advanceOffsetStatement, lockOffset, storedOffset, storeOffset } from '../../src/db/consumer-offsets.ts';
import { isolatedSettings } from './harness.ts';

describe('consumer offsets', () => {
  it('lockOffset reads the stored offset and serialises two owners of a partition', async () => {
    const { endpoints } = await isolatedSettings();
    const log = createLogger('silent');
    await migrate(endpoints.databaseUrl, log);
    const pool = createPool(endpoints.databaseUrl, log, 4);
    const first = await pool.connect();
    const second = await pool.connect();
    try {
      await first.query('begin');
      expect(await lockOffset(first, 'g', 't', 3)).toBe(0n);
      await storeOffset(first, 'g', 't', 3, '42');

      await second.query('begin');
      let secondGot: bigint | undefined;
      const waiting = lockOffset(second, 'g', 't', 3).then((offset) => { secondGot = offset; });
      // The second owner is blocked on the first one's row lock, as Postgres itself reports.
      const blocked = async () => (await pool.query<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'")).rows[0]!.n;
      for (let i = 0; i < 200 && (await blocked()) === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(await blocked()).toBe(1);
      expect(secondGot).toBeUndefined();

      await first.query('commit');
      await waiting;
      expect(secondGot).toBe(42n);
      await second.query('commit');
      // Another partition and group are rows of their own.
      expect(await lockOffset(first, 'g', 't', 4)).toBe(0n);
      expect(await lockOffset(first, 'h', 't', 3)).toBe(0n);
    } finally {
      first.release();
      second.release();
      await pool.end();
    }
  });

  it('advanceOffsetStatement moves the offset, with BEGIN in one round trip, only from what is expected', async () => {
    const { endpoints } = await isolatedSettings();
    const log = createLogger('silent');
    await migrate(endpoints.databaseUrl, log);
    const pool = createPool(endpoints.databaseUrl, log, 2);
    // A topic name with a quote and a backslash is a literal, not SQL.
    const topic = "o'brien\\notes";
    try {
      await withTransaction(pool, async (client) => { await lockOffset(client, 'g', topic, 0); await storeOffset(client, 'g', topic, 0, '10'); });
      // What the sink expects is stored: one row moves, and the transaction holds it.
      const moved = await withTransaction(pool, async (_client, rows) => rows, advanceOffsetStatement('g', topic, 0, 10n, 25n));
      expect(moved).toBe(1);
      expect(await storedOffset(pool, 'g', topic, 0)).toBe(25n);
      // Something else is stored (another owner moved it): nothing moves.
      const stale = await withTransaction(pool, async (_client, rows) => rows, advanceOffsetStatement('g', topic, 0, 10n, 40n));
      expect(stale).toBe(0);
      expect(await storedOffset(pool, 'g', topic, 0)).toBe(25n);
      // A transaction that fails after the move leaves the offset where it was.
      await expect(withTransaction(pool, async () => { throw new Error('rows failed'); }, advanceOffsetStatement('g', topic, 0, 25n, 60n))).rejects.toThrow('rows failed');
      expect(await storedOffset(pool, 'g', topic, 0)).toBe(25n);
    } finally {
      await pool.end();
    }
  });
});

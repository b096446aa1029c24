/**
 * The expiry cleanup against a real Postgres, in a database of its own: it
 * deletes expired rows in bounded batches until none is left, only those, and
 * keeps deleting what expires later.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import { createPool, ensureDatabase, type Pool } from '../../src/db/pool.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/logger.ts';
import { startExpiryCleanup } from '../../src/db/expiry-cleanup.ts';
import { waitFor } from './harness.ts';

describe('expiry cleanup', () => {
  const log = createLogger('silent');
  let pool: Pool;
  let offset = 0;

  beforeAll(async () => {
    const url = await ensureDatabase(inject('endpoints').databaseUrl, `${inject('runPrefix')}${randomBytes(3).toString('hex')}`);
    await migrate(url, log);
    pool = createPool(url, log, 2);
  });
  afterAll(async () => pool?.end());

  /** Inserts one notification row per entry: seconds from now to its expiry, or null for none. */
  const insert = async (expiries: (number | null)[]) => {
    for (const inSeconds of expiries) {
      offset += 1;
      await pool.query(
        `insert into notifications (id, user_id, type, category, severity, title, message, source_type, source_id, source_key, occurred_at, created_at, kafka_partition, kafka_offset, expires_at)
         values ($1, 'u', 'job_completed', 'job', 'info', 't', 'm', 'test', $2, $2, now(), now(), 0, $3, now() + make_interval(secs => $4::float8))`,
        [randomUUID(), String(offset), offset, inSeconds]);
    }
  };
  const remaining = async () => (await pool.query<{ n: number }>('select count(*)::int as n from notifications')).rows[0]!.n;

  it('given more expired rows than a batch, then one round deletes them all, batch after batch, and nothing else', async () => {
    await insert([-60, -60, -1, -1, -0.001, null, 3600]);
    const cleanup = startExpiryCleanup({ pool, intervalMs: 3_600_000, batchSize: 2, log, onFatal: (err) => { throw err; } });
    try {
      // The first round runs at start; round() joins it or runs another.
      await cleanup.round();
      expect(await remaining()).toBe(2);
      expect((await pool.query('select 1 from notifications where expires_at <= now()')).rowCount).toBe(0);

      await insert([-5, -5, -5]);
      expect(await cleanup.round()).toBe(3);
      expect(await remaining()).toBe(2);
    } finally {
      await cleanup.stop();
    }
  });

  it('given a short interval, then a row that expires later is deleted by a later round, and stop waits for the round under way', async () => {
    await pool.query('truncate notifications');
    const cleanup = startExpiryCleanup({ pool, intervalMs: 5, log, onFatal: (err) => { throw err; } });
    await insert([0.3, null]);
    await waitFor(async () => ((await remaining()) === 1 ? true : undefined), 'the row to be deleted once expired', 10_000);
    await cleanup.stop();
  });
});

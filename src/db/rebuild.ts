/**
 * What `tidings rebuild` does to Postgres: empties the projector's read models
 * and forgets its stored offsets in one transaction, so that the projector,
 * started afterwards, replays its inputs from the beginning into empty
 * tables (how far it has come: storedOffsets in consumer-offsets.ts).
 */
import type { PROCESSORS } from '../topology.ts';
import { withTransaction, type Pool } from './pool.ts';

type ProjectorRow = (typeof PROCESSORS.projector.rows)[number];

/** The table of each read model the projector writes (src/topology.ts names them). */
export const READ_MODEL_TABLES: Readonly<Record<ProjectorRow, string>> = {
  notifications: 'notifications',
  read_events: 'notification_read_events',
  preferences: 'notification_preferences',
  recipients: 'recipients',
  webhooks: 'user_webhooks',
  audit_log: 'audit_log',
  delivery_attempts: 'delivery_attempts',
  webhook_endpoint_stats: 'webhook_endpoint_stats',
};

/**
 * Empties every read model and deletes the projector group's offsets, in one
 * transaction (TRUNCATE waits for a projector transaction still under way).
 */
export async function resetReadModels(pool: Pool, projectorGroup: string): Promise<void> {
  await withTransaction(pool, async (client) => {
    await client.query(`truncate ${Object.values(READ_MODEL_TABLES).join(', ')}`);
    await client.query('delete from consumer_offsets where group_id = $1', [projectorGroup]);
  });
}

/** Rows per read model, for the report at the end. */
export async function readModelCounts(pool: Pool): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of Object.values(READ_MODEL_TABLES)) {
    const { rows } = await pool.query<{ n: string }>(`select count(*) as n from ${table}`);
    counts[table] = Number(rows[0]?.n ?? 0);
  }
  return counts;
}

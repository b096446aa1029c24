/** The webhooks read model: table `user_webhooks`, one row per endpoint of a user, as projected from notification.webhooks. */
import type { Client, Pool } from './pool.ts';
import type { WebhookEndpoints } from '../model/routing.ts';

export interface WebhookRow {
  endpoint_id: string;
  url: string;
  format: string;
  /** sealed by src/secret-box.ts; never opened here */
  secret_encrypted: string | null;
  enabled: boolean;
  types: string[];
  updated_at: Date;
}

/** A user's webhook endpoints as projected, secrets still sealed. */
export async function listWebhooks(pool: Pool, userId: string): Promise<WebhookRow[]> {
  const result = await pool.query<WebhookRow>(
    'select endpoint_id, url, format, secret_encrypted, enabled, types, updated_at from user_webhooks where user_id = $1 order by endpoint_id', [userId]);
  return result.rows;
}

/** Replaces the user's endpoints with the set from the log; a tombstone (null) deletes them. */
export async function putWebhooks(client: Client, userId: string, value: WebhookEndpoints | null): Promise<void> {
  await client.query('delete from user_webhooks where user_id = $1', [userId]);
  for (const e of value?.endpoints ?? []) {
    await client.query(
      `insert into user_webhooks (user_id, endpoint_id, url, format, secret_encrypted, enabled, types, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [userId, e.id, e.url, e.format, e.secret_encrypted, e.enabled, e.types, new Date(value?.updated_at ?? 0)],
    );
  }
}

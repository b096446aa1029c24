/** The webhooks read model: table `user_webhooks`, one row per endpoint of a user, as projected from notification.webhooks. */
import type { Client, Pool } from './pool.ts';
import type { WebhookEndpoint, WebhookEndpoints, WebhookFormat } from '../model/routing.ts';

export interface WebhookRow {
  endpoint_id: string;
  url: string;
  format: string;
  /** sealed by src/secret-box.ts; never opened here */
  secret_encrypted: string | null;
  enabled: boolean;
  types: string[];
  headers: Record<string, string>;
  timeout_ms: number;
  previous_secret_encrypted: string | null;
  previous_secret_expires_at: number | null;
  disabled_reason: string | null;
  updated_at: Date;
}

const COLUMNS = `endpoint_id, url, format, secret_encrypted, enabled, types, headers, timeout_ms, previous_secret_encrypted,
  (extract(epoch from previous_secret_expires_at) * 1000)::float8 as previous_secret_expires_at, disabled_reason, updated_at`;

/** A user's webhook endpoints as projected, secrets still sealed. */
export async function listWebhooks(pool: Pool, userId: string): Promise<WebhookRow[]> {
  const result = await pool.query<WebhookRow>(
    `select ${COLUMNS} from user_webhooks where user_id = $1 order by endpoint_id`, [userId]);
  return result.rows;
}

/** One endpoint of a user as projected, or undefined. */
export async function findWebhook(pool: Pool, userId: string, endpointId: string): Promise<WebhookRow | undefined> {
  const result = await pool.query<WebhookRow>(`select ${COLUMNS} from user_webhooks where user_id = $1 and endpoint_id = $2`, [userId, endpointId]);
  return result.rows[0];
}

/** Replaces the user's endpoints with the set from the log; a tombstone (null) deletes them. */
export async function putWebhooks(client: Client, userId: string, value: WebhookEndpoints | null): Promise<void> {
  const disabled = (await client.query<{ endpoint_id: string }>('select endpoint_id from user_webhooks where user_id = $1 and not enabled', [userId])).rows.map((r) => r.endpoint_id);
  // Turned on again: its failures so far no longer count towards disabling it (TIDINGS_WEBHOOK_DISABLE_AFTER_MS).
  const reEnabled = (value?.endpoints ?? []).filter((e) => e.enabled && disabled.includes(e.id)).map((e) => e.id);
  if (reEnabled.length > 0) await client.query('update webhook_endpoint_stats set failing_since = null where user_id = $1 and endpoint_id = any($2)', [userId, reEnabled]);
  await client.query('delete from user_webhooks where user_id = $1', [userId]);
  for (const e of value?.endpoints ?? []) {
    await client.query(
      `insert into user_webhooks (user_id, endpoint_id, url, format, secret_encrypted, enabled, types, headers, timeout_ms,
         previous_secret_encrypted, previous_secret_expires_at, disabled_reason, updated_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [userId, e.id, e.url, e.format, e.secret_encrypted, e.enabled, e.types, JSON.stringify(e.headers), e.timeout_ms, e.previous_secret_encrypted,
        e.previous_secret_expires_at === null ? null : new Date(e.previous_secret_expires_at), e.disabled_reason, new Date(value?.updated_at ?? 0)],
    );
  }
}

/** An endpoint as projected, in the shape of notification.webhooks. */
export function endpointOf(r: WebhookRow): WebhookEndpoint {
  return {
    id: r.endpoint_id, url: r.url, format: r.format as WebhookFormat, secret_encrypted: r.secret_encrypted, enabled: r.enabled, types: r.types,
    headers: r.headers, timeout_ms: r.timeout_ms, previous_secret_encrypted: r.previous_secret_encrypted,
    previous_secret_expires_at: r.previous_secret_expires_at, disabled_reason: r.disabled_reason,
  };
}

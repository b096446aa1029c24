/** Writes of the projector into the read models other than the inbox rows. */
import type { Client } from './pool.ts';
import type { AuditEvent, PreferenceSet, ReadEvent, Recipient, WebhookEndpoints } from '../model/routing.ts';

/** Marks read or archives; only ever the user's own notifications. */
export async function applyRead(client: Client, e: ReadEvent): Promise<void> {
  const at = new Date(e.at);
  switch (e.action) {
    case 'read':
      await client.query('update notifications set read_at = coalesce(read_at, $3), seen_at = coalesce(seen_at, $3) where id = $1 and user_id = $2', [e.notification_id, e.user_id, at]);
      return;
    case 'read_all':
      await client.query('update notifications set read_at = $3, seen_at = coalesce(seen_at, $3) where user_id = $1 and read_at is null and created_at <= $2', [e.user_id, new Date(e.before ?? e.at), at]);
      return;
    case 'archive':
      await client.query('update notifications set archived_at = coalesce(archived_at, $3) where id = $1 and user_id = $2', [e.notification_id, e.user_id, at]);
      return;
  }
}

export async function putPreferences(client: Client, userId: string, value: PreferenceSet | null): Promise<void> {
  if (value === null) {
    await client.query('delete from notification_preferences where user_id = $1', [userId]);
    return;
  }
  await client.query(
    `insert into notification_preferences (user_id, preferences, updated_at) values ($1, $2::jsonb, $3)
     on conflict (user_id) do update set preferences = excluded.preferences, updated_at = excluded.updated_at`,
    [userId, JSON.stringify(value.preferences), new Date(value.updated_at)],
  );
}

export async function putRecipient(client: Client, userId: string, value: Recipient | null): Promise<void> {
  if (value === null) {
    await client.query('delete from recipients where user_id = $1', [userId]);
    return;
  }
  await client.query(
    `insert into recipients (user_id, email, display_name, locale, time_zone, roles, topics, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8)
     on conflict (user_id) do update set email = excluded.email, display_name = excluded.display_name, locale = excluded.locale,
       time_zone = excluded.time_zone, roles = excluded.roles, topics = excluded.topics, updated_at = excluded.updated_at`,
    [userId, value.email, value.display_name, value.locale, value.time_zone, value.roles, value.topics, new Date(value.updated_at)],
  );
}

/** Replaces the user's endpoints with the set from the log. */
export async function putWebhooks(client: Client, userId: string, value: WebhookEndpoints | null): Promise<void> {
  await client.query('delete from user_webhooks where user_id = $1', [userId]);
  for (const e of value?.endpoints ?? []) {
    await client.query(
      `insert into user_webhooks (user_id, endpoint_id, url, format, secret_encrypted, enabled, types, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [userId, e.id, e.url, e.format, e.secret_encrypted, e.enabled, e.types, new Date(value?.updated_at ?? 0)],
    );
  }
}

export async function insertAudit(client: Client, a: AuditEvent): Promise<void> {
  await client.query(
    `insert into audit_log (id, notification_id, user_id, type, severity, title, message, data, source_type, source_id, occurred_at, recorded_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12) on conflict (id) do nothing`,
    [a.id, a.notification_id, a.user_id, a.type, a.severity, a.title, a.message, a.data, a.source_type, a.source_id, new Date(a.occurred_at), new Date(a.recorded_at)],
  );
}

/** Read queries of the API: the inbox, profiles and the audit log. */
import type { Pool } from './pool.ts';

export interface InboxRow {
  id: string;
  type: string;
  category: string;
  severity: string;
  title: string;
  message: string;
  data: Record<string, unknown>;
  action_url: string | null;
  source_type: string;
  source_id: string;
  occurred_at: Date;
  created_at: Date;
  read_at: Date | null;
  archived_at: Date | null;
}

/** Position after a row in newest-first order. */
export interface Cursor {
  createdAt: Date;
  id: string;
}

export interface InboxQuery {
  limit: number;
  after?: Cursor | undefined;
  unreadOnly: boolean;
  archived: boolean;
}

/** One page of a user's notifications, newest first, keyset-paginated on (created_at, id). */
export async function listInbox(pool: Pool, userId: string, q: InboxQuery): Promise<InboxRow[]> {
  const result = await pool.query<InboxRow>(
    `select id, type, category, severity, title, message, data, action_url, source_type, source_id, occurred_at, created_at, read_at, archived_at
       from notifications
      where user_id = $1
        and (archived_at is not null) = $2
        and ($3::boolean = false or read_at is null)
        and ($4::timestamptz is null or (created_at, id) < ($4::timestamptz, $5::uuid))
      order by created_at desc, id desc
      limit $6`,
    [userId, q.archived, q.unreadOnly, q.after?.createdAt ?? null, q.after?.id ?? null, q.limit],
  );
  return result.rows;
}

export async function unreadCount(pool: Pool, userId: string): Promise<number> {
  const result = await pool.query<{ n: number }>('select count(*)::int as n from notifications where user_id = $1 and read_at is null and archived_at is null', [userId]);
  return result.rows[0]?.n ?? 0;
}

/** Whether the notification exists and belongs to the user. */
export async function ownsNotification(pool: Pool, userId: string, id: string): Promise<boolean> {
  const result = await pool.query('select 1 from notifications where id = $1 and user_id = $2', [id, userId]);
  return result.rowCount === 1;
}

export async function getPreferenceSet(pool: Pool, userId: string): Promise<{ preferences: { type: string; in_app: boolean; email: boolean; webhook: boolean }[]; updated_at: Date } | undefined> {
  const result = await pool.query('select preferences, updated_at from notification_preferences where user_id = $1', [userId]);
  return result.rows[0];
}

export async function getRecipient(pool: Pool, userId: string): Promise<Record<string, unknown> | undefined> {
  const result = await pool.query('select user_id, email, display_name, locale, time_zone, roles, topics, updated_at from recipients where user_id = $1', [userId]);
  return result.rows[0];
}

export async function listAudit(pool: Pool, q: { limit: number; after?: { recordedAt: Date; id: string } | undefined; userId?: string | undefined }): Promise<Record<string, unknown>[]> {
  const result = await pool.query(
    `select id, notification_id, user_id, type, severity, title, message, data, source_type, source_id, occurred_at, recorded_at
       from audit_log
      where ($1::text is null or user_id = $1)
        and ($2::timestamptz is null or (recorded_at, id) < ($2::timestamptz, $3::uuid))
      order by recorded_at desc, id desc
      limit $4`,
    [q.userId ?? null, q.after?.recordedAt ?? null, q.after?.id ?? null, q.limit],
  );
  return result.rows;
}

export interface WebhookRow {
  endpoint_id: string;
  url: string;
  format: string;
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

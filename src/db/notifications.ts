/** Queries of the notifications read model. */
import type { Client, Pool } from './pool.ts';
import type { Notification } from '../model/notification.ts';

/** Inserts an accepted notification; a second insert of the same id changes nothing. */
export async function insertNotification(client: Client, n: Notification, at: { partition: number; offset: string }): Promise<boolean> {
  const result = await client.query(
    `insert into notifications (id, user_id, type, category, severity, title, message, data, action_url,
       source_type, source_id, source_key, event_id, occurred_at, created_at, delivery, kafka_partition, kafka_offset)
     values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12, $13, to_timestamp($14 / 1000.0), to_timestamp($15 / 1000.0),
       '{"in_app": "accepted"}'::jsonb, $16, $17)
     on conflict (id) do nothing`,
    [n.id, n.user_id, n.type, n.category, n.severity, n.title, n.message, n.data, n.action_url,
      n.source_type, n.source_id, n.source_key, n.event_id, n.occurred_at, n.created_at, at.partition, at.offset],
  );
  return result.rowCount === 1;
}

export interface NotificationRow {
  id: string;
  user_id: string;
  type: string;
  category: string;
  severity: string;
  title: string;
  message: string;
  data: Record<string, unknown>;
  action_url: string | null;
  source_key: string;
  created_at: Date;
  read_at: Date | null;
}

/** A user's notifications, newest first (used by tests now, the inbox API later). */
export async function listNotifications(pool: Pool, userId: string, limit = 50): Promise<NotificationRow[]> {
  const result = await pool.query<NotificationRow>(
    `select id, user_id, type, category, severity, title, message, data, action_url, source_key, created_at, read_at
       from notifications where user_id = $1 and archived_at is null order by created_at desc, id desc limit $2`,
    [userId, limit],
  );
  return result.rows;
}

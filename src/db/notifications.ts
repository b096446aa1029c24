/** Queries of the notifications read model. */
import type { Client } from './pool.ts';
import type { Notification } from '../model/notification.ts';

/** Inserts a notification of notification.inbox (`at` is its place there); a second insert of the same id changes nothing. */
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

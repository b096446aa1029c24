/**
 * The inbox read model: table `notifications`, one row per notification of
 * notification.inbox, changed by the read events of notification.reads.
 * The projector writes it; the API lists and counts it. An expired row (its
 * expires_at passed) is gone for every reader at once, and the cleanup deletes
 * it later (deleteExpired).
 */
import type { Client, Pool } from './pool.ts';
import type { Notification } from '../model/notification.ts';
import type { ReadEvent } from '../model/routing.ts';

// Rows not expired: the rule of src/processors/projector/expiry.ts, on the database's clock.
const LIVE = '(expires_at is null or expires_at > now())';

/** A row as the inbox lists it: the notification's fields, times as Dates, data as an object, and its read state. */
export type InboxRow = Pick<Notification, 'id' | 'type' | 'category' | 'title' | 'message' | 'action_url' | 'source_type' | 'source_id'> & {
  /** a text column, not checked against Severity */
  severity: string;
  data: Record<string, unknown>;
  occurred_at: Date;
  created_at: Date;
  read_at: Date | null;
  archived_at: Date | null;
  /** after it the notification is gone; null: never */
  expires_at: Date | null;
  /** per channel ("in_app", "email", "webhook:<endpoint>"): the latest attempt's outcome, attempt, status and time */
  delivery: Record<string, unknown>;
};

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

/**
 * Inserts notifications of notification.inbox (`at`: each one's place there)
 * in one statement; an id already there, or twice in `rows`, is inserted once.
 * Returns how many rows were inserted.
 */
export async function insertNotifications(client: Client, rows: readonly { n: Notification; at: { partition: number; offset: string } }[]): Promise<number> {
  if (rows.length === 0) return 0;
  const column = <T>(f: (row: { n: Notification; at: { partition: number; offset: string } }) => T) => rows.map(f);
  // Which rows may have read events or delivery results projected before them
  // (other topics, as in a rebuild): two index lookups for the batch, in the
  // same statement, so that the per-row subqueries below run only for those
  // (about a quarter of the statement's cost), in one round trip.
  const result = await client.query(
    `with readers as (select distinct user_id from notification_read_events where user_id = any($2::text[])),
       delivered as (select distinct notification_id from delivery_attempts where notification_id = any($1::uuid[]))
     insert into notifications (id, user_id, type, category, severity, title, message, data, action_url,
       source_type, source_id, source_key, event_id, occurred_at, created_at, delivery, kafka_partition, kafka_offset,
       read_at, seen_at, archived_at, expires_at)
     select n.id, n.user_id, n.type, n.category, n.severity, n.title, n.message, n.data::jsonb, n.action_url,
       n.source_type, n.source_id, n.source_key, n.event_id, to_timestamp(n.occurred_at / 1000.0), to_timestamp(n.created_at / 1000.0),
       '{"in_app": "accepted"}'::jsonb || case when not n.has_results then '{}'::jsonb else coalesce((
         -- Results that were projected before the notification itself (another topic): the latest per channel.
         select jsonb_object_agg(k, v) from (
           select distinct on (channel, endpoint_id) case when endpoint_id is null then channel else channel || ':' || endpoint_id end as k,
             jsonb_build_object('outcome', outcome, 'attempt', attempt, 'status', status, 'at', at) as v
           from delivery_attempts where notification_id = n.id order by channel, endpoint_id, at desc, attempt desc) latest), '{}'::jsonb) end,
       n.kafka_partition, n.kafka_offset,
       -- Read events projected before the notification itself (another topic): what they did to it, the first of them.
       case when n.has_reads then (select min(r.at) from notification_read_events r where r.user_id = n.user_id
          and ((r.action = 'read' and r.notification_id = n.id) or (r.action = 'read_all' and r.before >= to_timestamp(n.created_at / 1000.0)))) end,
       case when n.has_reads then (select min(r.at) from notification_read_events r where r.user_id = n.user_id
          and ((r.action = 'read' and r.notification_id = n.id) or (r.action = 'read_all' and r.before >= to_timestamp(n.created_at / 1000.0)))) end,
       case when n.has_reads then (select min(r.at) from notification_read_events r where r.user_id = n.user_id and r.action = 'archive' and r.notification_id = n.id) end,
       case when n.expires_at is null then null else to_timestamp(n.expires_at / 1000.0) end
     from (select u.*, u.user_id in (select user_id from readers) as has_reads, u.id in (select notification_id from delivered) as has_results
       from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
         $10::text[], $11::text[], $12::text[], $13::text[], $14::bigint[], $15::bigint[], $16::integer[], $17::bigint[], $18::bigint[])
         as u(id, user_id, type, category, severity, title, message, data, action_url,
           source_type, source_id, source_key, event_id, occurred_at, created_at, kafka_partition, kafka_offset, expires_at)) n
     on conflict (id) do nothing`,
    [column((r) => r.n.id), column((r) => r.n.user_id), column((r) => r.n.type), column((r) => r.n.category), column((r) => r.n.severity),
      column((r) => r.n.title), column((r) => r.n.message), column((r) => r.n.data), column((r) => r.n.action_url),
      column((r) => r.n.source_type), column((r) => r.n.source_id), column((r) => r.n.source_key), column((r) => r.n.event_id),
      column((r) => r.n.occurred_at), column((r) => r.n.created_at), column((r) => r.at.partition), column((r) => r.at.offset), column((r) => r.n.expires_at ?? null)],
  );
  return result.rowCount ?? 0;
}

/**
 * Marks read or archives; only ever the user's own notifications. The event is
 * also kept (`at` is its place in notification.reads), so that a notification
 * projected later gets the read state it gives (insertNotifications).
 */
export async function applyRead(client: Client, e: ReadEvent, place: { partition: number; offset: string }): Promise<void> {
  const at = new Date(e.at);
  await client.query(
    `insert into notification_read_events (kafka_partition, kafka_offset, user_id, action, notification_id, before, at)
     values ($1, $2, $3, $4, $5, $6, $7) on conflict do nothing`,
    [place.partition, place.offset, e.user_id, e.action, e.notification_id, e.action === 'read_all' ? new Date(e.before ?? e.at) : null, at],
  );
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

/** One page of a user's notifications, newest first, keyset-paginated on (created_at, id). */
export async function listInbox(pool: Pool, userId: string, q: InboxQuery): Promise<InboxRow[]> {
  const result = await pool.query<InboxRow>(
    `select id, type, category, severity, title, message, data, action_url, source_type, source_id, occurred_at, created_at, read_at, archived_at, expires_at, delivery
       from notifications
      where user_id = $1
        and (archived_at is not null) = $2
        and ${LIVE}
        and ($3::boolean = false or read_at is null)
        and ($4::timestamptz is null or (created_at, id) < ($4::timestamptz, $5::uuid))
      order by created_at desc, id desc
      limit $6`,
    [userId, q.archived, q.unreadOnly, q.after?.createdAt ?? null, q.after?.id ?? null, q.limit],
  );
  return result.rows;
}

/**
 * The user's notifications still in the inbox (not archived, not expired) whose place in
 * partition `partition` of notification.inbox is after `after` and before
 * `before`, in that order; at most `limit`.
 */
export async function notificationsBetween(pool: Pool, userId: string, place: { partition: number; after: bigint; before: bigint }, limit: number): Promise<(InboxRow & { kafka_offset: string })[]> {
  const result = await pool.query<InboxRow & { kafka_offset: string }>(
    `select id, type, category, severity, title, message, data, action_url, source_type, source_id, occurred_at, created_at, read_at, archived_at, expires_at, delivery, kafka_offset
       from notifications
      where user_id = $1 and kafka_partition = $2 and kafka_offset > $3 and kafka_offset < $4 and archived_at is null and ${LIVE}
      order by kafka_offset
      limit $5`,
    [userId, place.partition, String(place.after), String(place.before), limit],
  );
  return result.rows.map((row) => ({ ...row, kafka_offset: String(row.kafka_offset) }));
}

/** Unread counts of several users (expired notifications not counted), in one query; users with none are 0. */
export async function unreadCounts(pool: Pool, userIds: readonly string[]): Promise<Map<string, number>> {
  const result = await pool.query<{ user_id: string; n: number }>(
    `select user_id, count(*)::int as n from notifications where user_id = any($1::text[]) and read_at is null and archived_at is null and ${LIVE} group by user_id`, [userIds]);
  const counts = new Map(userIds.map((u) => [u, 0]));
  for (const row of result.rows) counts.set(row.user_id, row.n);
  return counts;
}

/** The user's unread count; expired notifications are not counted. */
export async function unreadCount(pool: Pool, userId: string): Promise<number> {
  const result = await pool.query<{ n: number }>(`select count(*)::int as n from notifications where user_id = $1 and read_at is null and archived_at is null and ${LIVE}`, [userId]);
  return result.rows[0]?.n ?? 0;
}

/** Whether the notification exists, belongs to the user and has not expired (an expired one is as unknown as a deleted one). */
export async function ownsNotification(pool: Pool, userId: string, id: string): Promise<boolean> {
  const result = await pool.query(`select 1 from notifications where id = $1 and user_id = $2 and ${LIVE}`, [id, userId]);
  return result.rowCount === 1;
}

/**
 * Deletes up to `limit` expired notifications, earliest expiry first, and
 * returns how many it deleted. Rows another transaction holds (the projector
 * applying a read) are skipped, to be deleted by a later batch. The read
 * events kept for notifications not projected yet stay: an expired
 * notification is never projected again (the projector skips it), so they can
 * give it nothing.
 */
export async function deleteExpired(pool: Pool, limit: number): Promise<number> {
  const result = await pool.query(
    // = any(array(…)): the ids are found first (notifications_expiry), then deleted by primary key; `in (…)` scans the table.
    `delete from notifications where id = any(array(
       select id from notifications where expires_at <= now() order by expires_at limit $1 for update skip locked))`, [limit]);
  return result.rowCount ?? 0;
}

/**
 * The delivery read models, from notification.delivery.results: every
 * attempt (`delivery_attempts`), each webhook endpoint's statistics
 * (`webhook_endpoint_stats`, the seed's total_sent / total_failed /
 * last_triggered_at / last_success_at / last_error, and since when it has only
 * failed), and each notification's per-channel status (`notifications.delivery`).
 */
import type { Client, Pool } from './pool.ts';
import type { DeliveryResult } from '../model/routing.ts';

/**
 * Applies one result, in one statement (the projector writes one per attempt):
 * the attempt row, the notification's status for the channel, and for a
 * webhook endpoint its statistics. A result seen before (same delivery,
 * attempt and time) changes nothing.
 */
export async function putDeliveryResult(client: Client, r: DeliveryResult): Promise<void> {
  const sent = r.outcome === 'sent';
  // The channel's latest word on the notification: {"webhook:<endpoint>": {"outcome": …, "attempt": …, "status": …, "at": …}}.
  const channelKey = r.endpoint_id === null ? r.channel : `${r.channel}:${r.endpoint_id}`;
  const counts = r.channel === 'webhook' && r.endpoint_id !== null && r.outcome !== 'skipped';
  await client.query(
    `with inserted as (
       insert into delivery_attempts (delivery_id, attempt, notification_id, user_id, channel, endpoint_id, outcome, status, error, latency_ms, next_attempt_at, at)
       values ($1, $2, $3::uuid, $4, $5, $6, $7, $8, $9, $10, $11, $12::timestamptz) on conflict do nothing returning 1
     ), status as (
       update notifications set delivery = delivery || jsonb_build_object($13::text, jsonb_build_object('outcome', $7::text, 'attempt', $2::int, 'status', $8::int, 'at', $12::timestamptz))
       where id = $3::uuid and exists (select 1 from inserted)
     )
     insert into webhook_endpoint_stats as s (user_id, endpoint_id, total_sent, total_failed, last_triggered_at, last_success_at, last_error, failing_since)
     select $4, $6, $14::bigint, $15::bigint, $12::timestamptz, case when $16::boolean then $12::timestamptz end,
       case when $16::boolean then null else $9::text end, case when $16::boolean then null else $12::timestamptz end
     where $17::boolean and exists (select 1 from inserted)
     on conflict (user_id, endpoint_id) do update set
       total_sent = s.total_sent + excluded.total_sent,
       total_failed = s.total_failed + excluded.total_failed,
       last_triggered_at = greatest(s.last_triggered_at, excluded.last_triggered_at),
       last_success_at = coalesce(greatest(s.last_success_at, excluded.last_success_at), s.last_success_at, excluded.last_success_at),
       last_error = case when $16::boolean then s.last_error else excluded.last_error end,
       failing_since = case when $16::boolean then null else coalesce(s.failing_since, excluded.failing_since) end`,
    [r.delivery_id, r.attempt, r.notification_id, r.user_id, r.channel, r.endpoint_id, r.outcome, r.status, r.error, r.latency_ms,
      r.next_attempt_at === null ? null : new Date(r.next_attempt_at), new Date(r.at), channelKey, sent ? 1 : 0, sent ? 0 : 1, sent, counts],
  );
}

export interface EndpointStats {
  total_sent: number;
  total_failed: number;
  last_triggered_at: Date | null;
  last_success_at: Date | null;
  last_error: string | null;
  /** the first failure after the last success; null while it succeeds */
  failing_since: Date | null;
}

/** Each endpoint's statistics of one user, by endpoint id. */
export async function endpointStats(pool: Pool, userId: string): Promise<Map<string, EndpointStats>> {
  const result = await pool.query<EndpointStats & { endpoint_id: string }>(
    `select endpoint_id, total_sent::int, total_failed::int, last_triggered_at, last_success_at, last_error, failing_since
     from webhook_endpoint_stats where user_id = $1`, [userId]);
  return new Map(result.rows.map(({ endpoint_id, ...stats }) => [endpoint_id, stats]));
}

/** Since when an endpoint has only failed (ms), or undefined while it succeeds. */
export async function failingSince(pool: Pool, userId: string, endpointId: string): Promise<number | undefined> {
  const result = await pool.query<{ failing_since: Date | null }>(
    'select failing_since from webhook_endpoint_stats where user_id = $1 and endpoint_id = $2', [userId, endpointId]);
  return result.rows[0]?.failing_since?.getTime() ?? undefined;
}

export interface AttemptRow {
  delivery_id: string;
  attempt: number;
  notification_id: string;
  outcome: string;
  status: number | null;
  error: string | null;
  latency_ms: number | null;
  next_attempt_at: Date | null;
  at: Date;
}

/** An endpoint's attempts, newest first, after the cursor position (at, delivery_id, attempt) when given. */
export async function listAttempts(pool: Pool, userId: string, endpointId: string, limit: number,
  after?: { at: Date; deliveryId: string; attempt: number }): Promise<AttemptRow[]> {
  const result = await pool.query<AttemptRow>(
    `select delivery_id, attempt, notification_id, outcome, status, error, latency_ms, next_attempt_at, at from delivery_attempts
     where user_id = $1 and endpoint_id = $2 ${after ? 'and (at, delivery_id, attempt) < ($4, $5, $6)' : ''}
     order by at desc, delivery_id desc, attempt desc limit $3`,
    after ? [userId, endpointId, limit, after.at, after.deliveryId, after.attempt] : [userId, endpointId, limit]);
  return result.rows;
}

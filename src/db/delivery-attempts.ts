/**
 * The delivery read models, from notification.delivery.results: every
 * attempt (`delivery_attempts`), each webhook endpoint's statistics
 * (`webhook_endpoint_stats`, the seed's total_sent / total_failed /
 * last_triggered_at / last_success_at / last_error, and since when it has only
 * failed), and each notification's per-channel status (`notifications.delivery`).
 */
import type { Client, Pool } from './pool.ts';
import type { DeliveryResult } from '../model/routing.ts';

/** Applies one result; a result seen before (same delivery and attempt) changes nothing. */
export async function putDeliveryResult(client: Client, r: DeliveryResult): Promise<void> {
  const at = new Date(r.at);
  const inserted = await client.query(
    `insert into delivery_attempts (delivery_id, attempt, notification_id, user_id, channel, endpoint_id, outcome, status, error, latency_ms, next_attempt_at, at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) on conflict do nothing`,
    [r.delivery_id, r.attempt, r.notification_id, r.user_id, r.channel, r.endpoint_id, r.outcome, r.status, r.error, r.latency_ms,
      r.next_attempt_at === null ? null : new Date(r.next_attempt_at), at],
  );
  if (inserted.rowCount === 0) return;
  // The channel's latest word on the notification: {"webhook:<endpoint>": {"outcome": …, "attempt": …, "at": …}}.
  const channelKey = r.endpoint_id === null ? r.channel : `${r.channel}:${r.endpoint_id}`;
  await client.query(
    `update notifications set delivery = delivery || jsonb_build_object($2::text, jsonb_build_object('outcome', $3::text, 'attempt', $4::int, 'status', $5::int, 'at', $6::timestamptz))
     where id = $1`,
    [r.notification_id, channelKey, r.outcome, r.attempt, r.status, at],
  );
  if (r.channel !== 'webhook' || r.endpoint_id === null || r.outcome === 'skipped') return;
  const sent = r.outcome === 'sent';
  await client.query(
    `insert into webhook_endpoint_stats as s (user_id, endpoint_id, total_sent, total_failed, last_triggered_at, last_success_at, last_error, failing_since)
     values ($1, $2, $3, $4, $5::timestamptz, case when $6::boolean then $5::timestamptz end, case when $6::boolean then null else $7::text end,
       case when $6::boolean then null else $5::timestamptz end)
     on conflict (user_id, endpoint_id) do update set
       total_sent = s.total_sent + excluded.total_sent,
       total_failed = s.total_failed + excluded.total_failed,
       last_triggered_at = greatest(s.last_triggered_at, excluded.last_triggered_at),
       last_success_at = coalesce(greatest(s.last_success_at, excluded.last_success_at), s.last_success_at, excluded.last_success_at),
       last_error = case when $6::boolean then s.last_error else excluded.last_error end,
       failing_since = case when $6::boolean then null else coalesce(s.failing_since, excluded.failing_since) end`,
    [r.user_id, r.endpoint_id, sent ? 1 : 0, sent ? 0 : 1, at, sent, r.error],
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

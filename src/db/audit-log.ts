/** The audit read model: table `audit_log`, one row per event of notification.audit, listed to admins. */
import type { Client, Pool } from './pool.ts';
import type { AuditEvent } from '../model/routing.ts';

/** An AuditEvent as Postgres returns it: times as Dates, data as an object. */
export type AuditRow = Omit<AuditEvent, 'data' | 'occurred_at' | 'recorded_at'> & { data: Record<string, unknown>; occurred_at: Date; recorded_at: Date };

export interface AuditQuery {
  limit: number;
  /** position after a row in newest-first order */
  after?: { recordedAt: Date; id: string } | undefined;
  /** only this user's entries */
  userId?: string | undefined;
}

/** Inserts audit events in one statement; an id already there, or twice in `events`, is inserted once. */
export async function insertAudits(client: Client, events: readonly AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  const column = <T>(f: (a: AuditEvent) => T) => events.map(f);
  await client.query(
    `insert into audit_log (id, notification_id, user_id, type, severity, title, message, data, source_type, source_id, occurred_at, recorded_at)
     select a.id, a.notification_id, a.user_id, a.type, a.severity, a.title, a.message, a.data::jsonb, a.source_type, a.source_id,
       to_timestamp(a.occurred_at / 1000.0), to_timestamp(a.recorded_at / 1000.0)
       from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[], $12::bigint[])
         as a(id, notification_id, user_id, type, severity, title, message, data, source_type, source_id, occurred_at, recorded_at)
     on conflict (id) do nothing`,
    [column((a) => a.id), column((a) => a.notification_id), column((a) => a.user_id), column((a) => a.type), column((a) => a.severity), column((a) => a.title),
      column((a) => a.message), column((a) => a.data), column((a) => a.source_type), column((a) => a.source_id), column((a) => a.occurred_at), column((a) => a.recorded_at)],
  );
}

/** One page of the audit log, newest first, keyset-paginated on (recorded_at, id). */
export async function listAudit(pool: Pool, q: AuditQuery): Promise<AuditRow[]> {
  const result = await pool.query<AuditRow>(
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

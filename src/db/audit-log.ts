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

/** Inserts an audit event; a second insert of the same id changes nothing. */
export async function insertAudit(client: Client, a: AuditEvent): Promise<void> {
  await client.query(
    `insert into audit_log (id, notification_id, user_id, type, severity, title, message, data, source_type, source_id, occurred_at, recorded_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12) on conflict (id) do nothing`,
    [a.id, a.notification_id, a.user_id, a.type, a.severity, a.title, a.message, a.data, a.source_type, a.source_id, new Date(a.occurred_at), new Date(a.recorded_at)],
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

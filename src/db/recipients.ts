/** The recipients read model: table `recipients`, a user's profile as projected from notification.recipients. */
import type { Client, Pool } from './pool.ts';
import type { Recipient } from '../model/routing.ts';

/** A Recipient as Postgres returns it: times as Dates. */
export type RecipientRow = Omit<Recipient, 'updated_at'> & { updated_at: Date };

/** The user's profile; undefined when none was written yet. */
export async function getRecipient(pool: Pool, userId: string): Promise<RecipientRow | undefined> {
  const result = await pool.query<RecipientRow>('select user_id, email, display_name, locale, time_zone, roles, topics, updated_at from recipients where user_id = $1', [userId]);
  return result.rows[0];
}

/** Stores the profile from the log; a tombstone (null) deletes it. */
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

/** The preferences read model: table `notification_preferences`, a user's set as projected from notification.preferences. */
import type { Client, Pool } from './pool.ts';
import type { PreferenceSet, TypePreference } from '../model/routing.ts';

export interface PreferencesRow {
  /** only the types the user chose for; the others use their defaults */
  preferences: TypePreference[];
  updated_at: Date;
}

/** The user's stored set; undefined when they never chose. */
export async function getPreferences(pool: Pool, userId: string): Promise<PreferencesRow | undefined> {
  const result = await pool.query<PreferencesRow>('select preferences, updated_at from notification_preferences where user_id = $1', [userId]);
  return result.rows[0];
}

/** Stores the set from the log; a tombstone (null) deletes it. */
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

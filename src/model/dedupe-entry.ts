/** notification.dedupe: the changelog value of a source key the dedupe processor accepted (schemas/dedupe-entry.avsc). */
export interface DedupeEntry {
  source_key: string;
  notification_id: string;
  /** ms since the epoch */
  first_seen_at: number;
}

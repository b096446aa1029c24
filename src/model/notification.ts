/**
 * The two records at the heart of Tidings, in their wire shape (the Avro
 * schemas in schemas/ are the source of truth; these types mirror them).
 */
export const SEVERITIES = ['info', 'success', 'warning', 'error', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** notification.events: what happened. */
export interface NotificationEvent {
  event_id: string | null;
  user_id: string;
  type: string;
  title: string;
  message: string;
  severity: Severity;
  /** JSON object text, or null for none */
  data: string | null;
  action_url: string | null;
  source_type: string;
  source_id: string;
  /** ms since the epoch */
  occurred_at: number;
}

/** notification.accepted: one recipient's notification. */
export interface Notification {
  id: string;
  user_id: string;
  type: string;
  category: string;
  severity: Severity;
  title: string;
  message: string;
  /** JSON object text, "{}" for none */
  data: string;
  action_url: string | null;
  source_type: string;
  source_id: string;
  source_key: string;
  event_id: string | null;
  /** ms since the epoch */
  occurred_at: number;
  /** ms since the epoch: when Tidings accepted it */
  created_at: number;
}

/** The deduplication key: `source_type:source_id:type:user_id`. */
export function sourceKey(event: Pick<NotificationEvent, 'source_type' | 'source_id' | 'type' | 'user_id'>): string {
  return `${event.source_type}:${event.source_id}:${event.type}:${event.user_id}`;
}

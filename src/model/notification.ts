/**
 * The two records at the heart of Tidings, in their wire shape (the Avro
 * schemas in schemas/ are the source of truth; these types mirror them).
 */
/** KrakenHashes' five, then Nexora's low, medium and high (medium ranks as warning, high as error). */
export const SEVERITIES = ['info', 'success', 'warning', 'error', 'critical', 'low', 'medium', 'high'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Several recipients: listed users, holders of roles, subscribers of topics. */
export interface Audience {
  user_ids: string[];
  roles: string[];
  topics: string[];
  /** every known recipient: a broadcast */
  all: boolean;
}

/** notification.events: what happened. */
export interface NotificationEvent {
  event_id: string | null;
  /** the one recipient, or null when `audience` lists them */
  user_id: string | null;
  audience: Audience | null;
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
  /** ms since the epoch: deliver no earlier; absent or null: at once (or after delay_ms) */
  deliver_at?: number | null;
  /** ms after occurred_at to deliver; deliver_at wins */
  delay_ms?: number | null;
  /** names a delayed event's timer; absent or null: its source key */
  timer_key?: string | null;
  /** timer keys of pending delayed events this one cancels */
  cancels?: string[];
  /** ms since the epoch: after it the notification leaves the inbox */
  expires_at?: number | null;
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
  /** ms since the epoch: after it the notification leaves the inbox; absent or null: never */
  expires_at?: number | null;
}

/** A notification as browsers and API clients see it, in WebSocket frames and the inbox API alike. */
export interface NotificationView {
  id: string;
  type: string;
  category: string;
  severity: string;
  title: string;
  message: string;
  data: Record<string, unknown>;
  action_url: string | null;
  source: { type: string; id: string };
  /** ISO 8601 */
  occurred_at: string;
  /** ISO 8601 */
  created_at: string;
  read: boolean;
  /** ISO 8601, or null: from then on it is out of the inbox, and a client may hide it */
  expires_at: string | null;
}

type SourceFields = Pick<NotificationEvent, 'source_type' | 'source_id' | 'type'>;

/**
 * One part of a source key: a backslash, ":" and "*" are escaped with a backslash, so
 * that the joined key names exactly one tuple (ids may hold ":", as URNs and
 * `job:42` do) and an unescaped "*" is free to mark an audience.
 */
export function keyPart(part: string): string {
  return part.replace(/[\\:*]/g, (c) => `\\${c}`);
}

/**
 * The deduplication key of one recipient: `source_type:source_id:type:user_id`,
 * each part escaped by keyPart. Injective: two different tuples never share a key.
 */
export function sourceKey(event: SourceFields, userId: string): string {
  return [event.source_type, event.source_id, event.type, userId].map(keyPart).join(':');
}

/** Users holding any of `roles` or subscribed to any of `topics`; with `all`, every known recipient. */
export type MemberLookup = (roles: readonly string[], topics: readonly string[], all: boolean) => string[];

/** Everyone an event is for, each once: listed users first, then role holders and topic subscribers. */
export function recipientsOf(event: Pick<NotificationEvent, 'user_id' | 'audience'>, members: MemberLookup = () => []): string[] {
  if (event.user_id !== null) return [event.user_id];
  const audience = event.audience;
  if (!audience) return [];
  const resolved = audience.all || audience.roles.length > 0 || audience.topics.length > 0 ? members(audience.roles, audience.topics, audience.all) : [];
  return [...new Set([...audience.user_ids, ...resolved])];
}

/**
 * The key an event belongs under on notification.events: its source key when it
 * has one recipient, `source_type:source_id:type:*` (an unescaped "*", which no
 * user id yields) when it has an audience.
 */
export function eventKey(event: SourceFields & Pick<NotificationEvent, 'user_id'>): string {
  if (event.user_id !== null) return sourceKey(event, event.user_id);
  return `${[event.source_type, event.source_id, event.type].map(keyPart).join(':')}:*`;
}

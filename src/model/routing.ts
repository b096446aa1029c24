/**
 * What the router joins a notification with, and what it emits, in their wire
 * shape (schemas/ is the source of truth).
 */
import type { Notification } from './notification.ts';
import { defaultChannels, typeInfo, type Channels } from './catalogue.ts';
import type { Severity } from './notification.ts';

export interface TypePreference extends Channels {
  type: string;
}

/** notification.preferences */
export interface PreferenceSet {
  user_id: string;
  preferences: TypePreference[];
  updated_at: number;
}

/** notification.recipients */
export interface Recipient {
  user_id: string;
  email: string | null;
  display_name: string | null;
  locale: string;
  time_zone: string;
  roles: string[];
  /** topics the user subscribed to */
  topics: string[];
  updated_at: number;
}

export const WEBHOOK_FORMATS = ['generic', 'discord', 'slack', 'teams'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

export interface WebhookEndpoint {
  id: string;
  url: string;
  format: WebhookFormat;
  secret_encrypted: string | null;
  enabled: boolean;
  /** types sent to it; empty for all */
  types: string[];
  /** extra HTTP headers sent with every delivery */
  headers: Record<string, string>;
  /** ms one attempt may take */
  timeout_ms: number;
  /** the secret before the last rotation, still signed with until `previous_secret_expires_at` (ms) */
  previous_secret_encrypted: string | null;
  previous_secret_expires_at: number | null;
  /** why Tidings turned it off (410 Gone, failing for too long) */
  disabled_reason: string | null;
}

/** Standard Webhooks: "whsec_" and the padded base64 of 24 to 64 random bytes (65 still passes the pattern; webhookSecretProblem says so). */
export const WEBHOOK_SECRET_PATTERN = '^whsec_(?:[A-Za-z0-9+/]{4}){8,21}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$';

/** Why `secret` is not a Standard Webhooks secret Tidings can sign with, or undefined. */
export function webhookSecretProblem(secret: string): string | undefined {
  if (!new RegExp(WEBHOOK_SECRET_PATTERN).test(secret)) return 'must be "whsec_" and the padded base64 of 24 to 64 random bytes';
  const bytes = Buffer.from(secret.slice('whsec_'.length), 'base64').length;
  return bytes > 64 ? `holds ${bytes} bytes; at most 64` : undefined;
}

/** ms: an attempt's time limit unless the endpoint sets one, and the most it may set (the seed's 30 s and 60 s) */
export const WEBHOOK_TIMEOUT_MS = { default: 30_000, max: 60_000 } as const;

/** The fields of an endpoint that the API and the router fill in when nobody set them. */
export const ENDPOINT_DEFAULTS = {
  headers: {}, timeout_ms: WEBHOOK_TIMEOUT_MS.default, previous_secret_encrypted: null, previous_secret_expires_at: null, disabled_reason: null,
} as const satisfies Partial<WebhookEndpoint>;

/** Where a delivery to `endpoint` goes, as the endpoint is now. */
export function webhookTarget(endpoint: WebhookEndpoint): WebhookTarget {
  return {
    endpoint_id: endpoint.id, url: endpoint.url, format: endpoint.format, secret_encrypted: endpoint.secret_encrypted, global: false,
    headers: endpoint.headers, timeout_ms: endpoint.timeout_ms,
    previous_secret_encrypted: endpoint.previous_secret_encrypted, previous_secret_expires_at: endpoint.previous_secret_expires_at,
  };
}

/** notification.webhooks */
export interface WebhookEndpoints {
  user_id: string;
  endpoints: WebhookEndpoint[];
  updated_at: number;
}

/** Where a webhook delivery goes, as the endpoint was when the notification was routed. */
export interface WebhookTarget {
  endpoint_id: string;
  url: string;
  format: WebhookFormat;
  secret_encrypted: string | null;
  /** the operator's global webhook (signed with its configured secret) */
  global: boolean;
  headers: Record<string, string>;
  /** ms */
  timeout_ms: number;
  previous_secret_encrypted: string | null;
  /** ms */
  previous_secret_expires_at: number | null;
}

export type Channel = 'email' | 'webhook';
export const DELIVERY_OUTCOMES = ['sent', 'failed', 'retrying', 'dead', 'skipped'] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

/** notification.delivery.results: one attempt's outcome */
export interface DeliveryResult {
  delivery_id: string;
  notification_id: string;
  user_id: string;
  channel: Channel;
  /** 'global' for the global webhook; null for e-mail */
  endpoint_id: string | null;
  attempt: number;
  outcome: DeliveryOutcome;
  /** HTTP status or SMTP reply code */
  status: number | null;
  error: string | null;
  latency_ms: number | null;
  /** ms; when the next attempt is due, for 'retrying' */
  next_attempt_at: number | null;
  /** ms */
  at: number;
}

/** notification.delivery.email / .webhook */
export interface DeliveryCommand {
  delivery_id: string;
  channel: Channel;
  user_id: string;
  email: { address: string; display_name: string | null; locale: string } | null;
  webhook: WebhookTarget | null;
  attempt: number;
  notification: Notification;
  created_at: number;
}

/** notification.audit */
export interface AuditEvent {
  id: string;
  notification_id: string;
  user_id: string;
  type: string;
  severity: string;
  title: string;
  message: string;
  data: string;
  source_type: string;
  source_id: string;
  occurred_at: number;
  recorded_at: number;
}

/**
 * The channels a notification of `type` reaches for a user with `preferences`:
 * the user's choice for the type, else its defaults (e-mail on for error and
 * critical severity, see EMAIL_BY_DEFAULT); mandatory types always reach
 * in-app and e-mail. Without `severity`, the type's own defaults.
 */
export function channelsFor(type: string, preferences: PreferenceSet | undefined, severity?: Severity): Channels {
  const info = typeInfo(type);
  const chosen = preferences?.preferences.find((p) => p.type === type);
  const channels = chosen ? { in_app: chosen.in_app, email: chosen.email, webhook: chosen.webhook } : defaultChannels(type, severity);
  if (info.mandatory) {
    channels.in_app = true;
    channels.email = true;
  }
  return channels;
}

/**
 * Mandatory and critical e-mails go before bulk ones: the router writes them
 * to the priority lane (notification.delivery.email.priority), and they go
 * first in the transports' rate limits.
 */
export function emailPriority(notification: Pick<Notification, 'type' | 'severity'>): 'high' | 'bulk' {
  return typeInfo(notification.type).mandatory || notification.severity === 'critical' ? 'high' : 'bulk';
}

/** notification.reads */
export interface ReadEvent {
  user_id: string;
  action: 'read' | 'read_all' | 'archive';
  notification_id: string | null;
  /** ms; for read_all */
  before: number | null;
  at: number;
}

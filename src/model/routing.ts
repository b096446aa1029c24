/**
 * What the router joins a notification with, and what it emits, in their wire
 * shape (schemas/ is the source of truth).
 */
import type { Notification } from './notification.ts';
import { typeInfo, type Channels } from './catalogue.ts';

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
}

/** notification.webhooks */
export interface WebhookEndpoints {
  user_id: string;
  endpoints: WebhookEndpoint[];
  updated_at: number;
}

/** notification.delivery.email / .webhook */
export interface DeliveryCommand {
  delivery_id: string;
  channel: 'email' | 'webhook';
  user_id: string;
  email: { address: string; display_name: string | null; locale: string } | null;
  webhook: { endpoint_id: string; url: string; format: WebhookFormat; secret_encrypted: string | null; global: boolean } | null;
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

/** The channels a notification of `type` reaches for a user with `preferences`. */
export function channelsFor(type: string, preferences: PreferenceSet | undefined): Channels {
  const info = typeInfo(type);
  const chosen = preferences?.preferences.find((p) => p.type === type);
  const channels = chosen ? { in_app: chosen.in_app, email: chosen.email, webhook: chosen.webhook } : { ...info.defaults };
  if (info.mandatory) {
    channels.in_app = true;
    channels.email = true;
  }
  return channels;
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

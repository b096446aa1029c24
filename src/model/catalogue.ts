/**
 * The notification types Tidings knows: category, the channels a user gets
 * unless they chose otherwise, and whether the type is mandatory. Unknown
 * types are accepted under the category "custom", so producers can add types
 * without a release of Tidings.
 */
import type { Severity } from './notification.ts';

export const CATEGORIES = ['job', 'agent', 'security', 'system', 'access', 'custom'] as const;
export type Category = (typeof CATEGORIES)[number];

export interface Channels {
  in_app: boolean;
  email: boolean;
  webhook: boolean;
}

export interface TypeInfo {
  category: Category;
  /** what a user gets when they have not chosen */
  defaults: Channels;
  /** always reaches in-app and e-mail, whatever the user chose */
  mandatory: boolean;
}

const quiet: Channels = { in_app: true, email: false, webhook: true };
const loud: Channels = { in_app: true, email: true, webhook: true };
const inAppOnly: Channels = { in_app: true, email: false, webhook: false };
const info = (category: Category, defaults: Channels, mandatory = false): TypeInfo => ({ category, defaults, mandatory });

export const CATALOGUE: Readonly<Record<string, TypeInfo>> = Object.freeze({
  job_started: info('job', quiet),
  job_completed: info('job', quiet),
  job_failed: info('job', loud),
  first_crack: info('job', quiet),
  task_completed_with_cracks: info('job', quiet),
  agent_offline: info('agent', loud),
  agent_error: info('agent', loud),
  security_suspicious_login: info('security', loud),
  security_mfa_disabled: info('security', loud, true),
  security_password_changed: info('security', loud, true),
  webhook_failure: info('system', loud),
  maintenance_announcement: info('system', loud),
  system_test: info('system', inAppOnly), // POST /v1/notifications/test and webhook tests (the WebSocket seed's test notification)
  access_denied: info('access', loud),
  approval_timed_out: info('access', loud),
});

export function typeInfo(type: string): TypeInfo {
  return CATALOGUE[type] ?? info('custom', quiet);
}

/**
 * Severities whose e-mail is on by default whatever the type's default (Nexora's
 * rule "e-mail for high and critical severity"; KrakenHashes' error ranks as
 * high). A user's preference for the type still decides.
 */
export const EMAIL_BY_DEFAULT: readonly Severity[] = ['error', 'high', 'critical'];

/** What a user gets for a notification of `type` and `severity` when they have not chosen. */
export function defaultChannels(type: string, severity?: Severity): Channels {
  const { defaults } = typeInfo(type);
  return severity && EMAIL_BY_DEFAULT.includes(severity) ? { ...defaults, email: true } : { ...defaults };
}

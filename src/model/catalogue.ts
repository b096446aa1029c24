/**
 * The notification types Tidings knows: category, the channels a user gets
 * unless they chose otherwise, whether the type is mandatory, whether it is
 * audited, and the `data` it carries. Unknown types are accepted under the
 * category "custom" with free-form data, so producers can add types without a
 * release of Tidings.
 */
import type { Audience, NotificationEvent, Severity } from './notification.ts';
import type { DataSchema } from './data-schema.ts';
import { DENIAL_DATA } from './access-denial.ts';
import { WORKFLOW_APPROVAL_ANSWERED_DATA, WORKFLOW_APPROVAL_DATA } from './approval-data.ts';

export const CATEGORIES = ['job', 'agent', 'security', 'system', 'access', 'workflow', 'custom'] as const;
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
  /** the router writes each notification of the type to notification.audit */
  audited: boolean;
  /** what `data` must hold; absent: free-form */
  data?: DataSchema;
  /** who an event of the type is for when it names nobody (no user_id, no audience) */
  audience?: Pick<Audience, 'roles'>;
}

const quiet: Channels = { in_app: true, email: false, webhook: true };
const loud: Channels = { in_app: true, email: true, webhook: true };
const inAppOnly: Channels = { in_app: true, email: false, webhook: false };
const none: Channels = { in_app: false, email: false, webhook: false };

type Extra = Partial<Pick<TypeInfo, 'mandatory' | 'audited' | 'data' | 'audience'>>;
/** Security types are audited unless said otherwise (KrakenHashes' "all security events are logged"). */
const info = (category: Category, defaults: Channels, extra: Extra = {}): TypeInfo => ({
  category, defaults, mandatory: false, audited: category === 'security', ...extra,
});

export const CATALOGUE = Object.freeze({
  // KrakenHashes (000): its categories and mandatory security types as it has them.
  job_started: info('job', quiet),
  job_completed: info('job', quiet),
  job_failed: info('job', loud),
  first_crack: info('job', quiet),
  task_completed_with_cracks: info('job', quiet),
  agent_offline: info('agent', loud),
  agent_error: info('agent', loud),
  // Not a notice: an agent back within the offline buffer cancels its pending agent_offline; nobody hears of it.
  agent_reconnected: info('agent', none),
  security_suspicious_login: info('security', loud),
  security_mfa_disabled: info('security', loud, { mandatory: true }),
  security_password_changed: info('security', loud, { mandatory: true }),
  webhook_failure: info('system', loud),
  maintenance_announcement: info('system', loud),
  system_test: info('system', inAppOnly), // POST /v1/notifications/test and webhook tests (the WebSocket seed's test notification)

  // Nexora (002): "automatic email for all security events"; a changed password, a rotated API key and a
  // locked account are credential changes the owner must hear of (as KrakenHashes' password change and MFA
  // disabled), so mandatory; a security alert is e-mailed by default but may be turned off (suspicious login).
  security_alert: info('security', loud),
  api_key_rotation: info('security', loud, { mandatory: true }),
  password_change: info('security', loud, { mandatory: true }),
  account_lockout: info('security', loud, { mandatory: true }),
  // General messages: e-mailed only at high and critical severity (EMAIL_BY_DEFAULT), Nexora's queue rule.
  system_notification: info('system', quiet),
  // Approvers are e-mailed with approve / reject links; every step of an approval is audited ("audit trail of all approval actions").
  workflow_approval: info('workflow', loud, { audited: true, data: WORKFLOW_APPROVAL_DATA }),
  workflow_approval_answered: info('workflow', inAppOnly, { audited: true, data: WORKFLOW_APPROVAL_ANSWERED_DATA }),
  // The [ESCALATION] e-mail to the escalation contact is the escalation: it cannot be turned off.
  approval_escalation: info('workflow', loud, { mandatory: true, audited: true }),
  approval_timed_out: info('workflow', loud, { audited: true }),

  // Access control (003): every denial is a security event, audited; the security admins hear of one that names nobody.
  access_denied: info('access', loud, { audited: true, data: DENIAL_DATA, audience: { roles: ['security_admin'] } }),
} satisfies Record<string, TypeInfo>);

/** The types the catalogue knows. */
export type KnownType = keyof typeof CATALOGUE;

/** Every type outside the catalogue: in-app and webhook, free-form data. */
const CUSTOM: TypeInfo = Object.freeze(info('custom', quiet));

export function typeInfo(type: string): TypeInfo {
  // Own keys only: a type named toString or constructor is a custom type, not Object.prototype's.
  return Object.hasOwn(CATALOGUE, type) ? (CATALOGUE as Readonly<Record<string, TypeInfo>>)[type]! : CUSTOM;
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
  // A signal stays silent whatever its severity.
  return !isSignal(type) && severity && EMAIL_BY_DEFAULT.includes(severity) ? { ...defaults, email: true } : { ...defaults };
}

/**
 * Whether `type` has no channel by default: a signal to Tidings (agent_reconnected
 * cancels a pending agent_offline), not news for anyone, so not for the global webhook either.
 */
export function isSignal(type: string): boolean {
  const { defaults } = typeInfo(type);
  return !defaults.in_app && !defaults.email && !defaults.webhook;
}

/**
 * `event` with what its type fills in when the producer left it out: an event
 * of a type with a default audience (access_denied: the security_admin role)
 * that names neither a user nor an audience goes to that audience. Pure; the
 * event is returned unchanged when nothing applies.
 */
export function withCatalogueDefaults(event: NotificationEvent): NotificationEvent {
  const audience = typeInfo(event.type).audience;
  if (!audience || event.user_id !== null || !namesNobody(event.audience)) return event;
  return { ...event, audience: { user_ids: [], topics: [], all: false, roles: [...audience.roles] } };
}

function namesNobody(audience: Audience | null): boolean {
  return audience === null || (audience.user_ids.length === 0 && audience.roles.length === 0 && audience.topics.length === 0 && !audience.all);
}

/**
 * The router's logic: where an accepted notification goes, given its
 * recipient's preferences, profile and webhook endpoints: into the inbox
 * (notification.inbox, which the projector and the gateway read) when its
 * in-app channel is on, and to delivery commands. Records of the three tables
 * only update the router's state.
 */
import type { DecideContext } from '../../processor.ts';
import type { Notification } from '../../model/notification.ts';
import { channelsFor, webhookTarget, type AuditEvent, type DeliveryCommand, type PreferenceSet, type Recipient, type WebhookEndpoints, type WebhookFormat } from '../../model/routing.ts';
import { isSignal, typeInfo } from '../../model/catalogue.ts';

/** The one webhook every notification also goes to, when configured. */
export interface GlobalWebhook {
  url: string;
  format: WebhookFormat;
  /** ms an attempt may take */
  timeoutMs: number;
}

export type TableName = 'preferences' | 'recipients' | 'webhooks';

export type RouterInput =
  | { kind: 'notification'; notification: Notification }
  | { kind: 'preferences'; userId: string; value: PreferenceSet | null; offset: string }
  | { kind: 'recipients'; userId: string; value: Recipient | null; offset: string }
  | { kind: 'webhooks'; userId: string; value: WebhookEndpoints | null; offset: string };

export interface RouterState {
  preferences(userId: string): PreferenceSet | undefined;
  recipient(userId: string): Recipient | undefined;
  webhooks(userId: string): WebhookEndpoints | undefined;
  /** true when the table already holds this record (it was restored past it) */
  restoredPast(table: TableName, offset: string): boolean;
  globalWebhook: GlobalWebhook | undefined;
}

export type RouterOutput =
  | { kind: 'table'; table: TableName; userId: string; value: PreferenceSet | Recipient | WebhookEndpoints | null }
  /** the in-app channel: the inbox row and the live frame */
  | { kind: 'inbox'; notification: Notification }
  | { kind: 'deliver'; command: DeliveryCommand }
  | { kind: 'audit'; event: AuditEvent }
  | { kind: 'skipped'; channel: 'in_app' | 'email' | 'webhook'; notificationId: string; reason: string };

export function decideRouter(input: RouterInput, state: RouterState, ctx: DecideContext): RouterOutput[] {
  switch (input.kind) {
    case 'preferences':
    case 'recipients':
    case 'webhooks':
      if (state.restoredPast(input.kind, input.offset)) return [];
      return [{ kind: 'table', table: input.kind, userId: input.userId, value: input.value }];
    case 'notification':
      return route(input.notification, state, ctx);
  }
}

function route(n: Notification, state: RouterState, ctx: DecideContext): RouterOutput[] {
  // Expired before it was routed (a router that lagged, a replay): nobody is told any more; an audit still records it.
  if (n.expires_at !== undefined && n.expires_at !== null && n.expires_at <= ctx.now) {
    return [...(['in_app', 'email', 'webhook'] as const).map((channel): RouterOutput => ({ kind: 'skipped', channel, notificationId: n.id, reason: 'expired before it was routed' })), ...auditOf(n, ctx)];
  }
  const outputs: RouterOutput[] = [];
  const channels = channelsFor(n.type, state.preferences(n.user_id), n.severity);
  const command = (suffix: string, rest: Pick<DeliveryCommand, 'channel' | 'email' | 'webhook'>): DeliveryCommand => ({
    delivery_id: ctx.stableId(`${n.id}:${suffix}`), user_id: n.user_id, attempt: 1, notification: n, created_at: ctx.now, ...rest,
  });

  // Recorded in the log, so a rebuild of the inbox replays this decision rather than today's preferences.
  if (channels.in_app) outputs.push({ kind: 'inbox', notification: n });
  else outputs.push({ kind: 'skipped', channel: 'in_app', notificationId: n.id, reason: 'turned off by the user' });

  if (channels.email) {
    const recipient = state.recipient(n.user_id);
    if (recipient?.email) {
      outputs.push({ kind: 'deliver', command: command('email', {
        channel: 'email', webhook: null, email: { address: recipient.email, display_name: recipient.display_name, locale: recipient.locale },
      }) });
    } else {
      outputs.push({ kind: 'skipped', channel: 'email', notificationId: n.id, reason: 'no e-mail address' });
    }
  } else {
    outputs.push({ kind: 'skipped', channel: 'email', notificationId: n.id, reason: 'turned off by the user' });
  }

  if (channels.webhook) {
    for (const endpoint of state.webhooks(n.user_id)?.endpoints ?? []) {
      if (!endpoint.enabled || (endpoint.types.length > 0 && !endpoint.types.includes(n.type))) continue;
      outputs.push({ kind: 'deliver', command: command(`webhook:${endpoint.id}`, {
        channel: 'webhook', email: null,
        webhook: webhookTarget(endpoint),
      }) });
    }
  }

  // The operator's global webhook sees every notification, whatever the user chose; a signal is not one.
  if (state.globalWebhook && !isSignal(n.type)) {
    const g = state.globalWebhook;
    outputs.push({ kind: 'deliver', command: command('webhook:global', {
      channel: 'webhook', email: null, webhook: {
        endpoint_id: 'global', url: g.url, format: g.format, secret_encrypted: null, global: true,
        headers: {}, timeout_ms: g.timeoutMs, previous_secret_encrypted: null, previous_secret_expires_at: null,
      },
    }) });
  }

  return [...outputs, ...auditOf(n, ctx)];
}

/** Security types, access denials and every step of an approval (the catalogue's `audited`) go to the audit log. */
function auditOf(n: Notification, ctx: DecideContext): RouterOutput[] {
  if (!typeInfo(n.type).audited) return [];
  return [{ kind: 'audit', event: {
    id: ctx.stableId(`${n.id}:audit`), notification_id: n.id, user_id: n.user_id, type: n.type, severity: n.severity, title: n.title,
    message: n.message, data: n.data, source_type: n.source_type, source_id: n.source_id, occurred_at: n.occurred_at, recorded_at: ctx.now,
  } }];
}

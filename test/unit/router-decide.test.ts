import { describe, expect, it } from 'vitest';
import { ENDPOINT_DEFAULTS } from '../../src/model/routing.ts';
import { decideRouter, type RouterState } from '../../src/processors/router/decide.ts';
import type { DecideContext } from '../../src/processor.ts';
import type { Notification } from '../../src/model/notification.ts';
import type { PreferenceSet, Recipient, WebhookEndpoints } from '../../src/model/routing.ts';
import { channelsFor } from '../../src/model/routing.ts';
import { stableId } from '../../src/model/ids.ts';
import { typeInfo } from '../../src/model/catalogue.ts';

const ctx: DecideContext = { now: 1_700_000_000_000, newId: () => 'random', stableId };

const notification = (type = 'job_failed', overrides: Partial<Notification> = {}): Notification => ({
  id: 'n1', user_id: 'u1', type, category: 'job', severity: 'error', title: 'T', message: 'M', data: '{}', action_url: null,
  source_type: 'job', source_id: '1', source_key: `job:1:${type}:u1`, event_id: null, occurred_at: 1, created_at: 2, ...overrides,
});
const alice: Recipient = { user_id: 'u1', email: 'alice@example.test', display_name: 'Alice', locale: 'de', time_zone: 'Europe/Berlin', roles: [], topics: [], updated_at: 1 };
const prefs = (...p: PreferenceSet['preferences']): PreferenceSet => ({ user_id: 'u1', preferences: p, updated_at: 1 });
const hooks = (...endpoints: WebhookEndpoints['endpoints']): WebhookEndpoints => ({ user_id: 'u1', endpoints, updated_at: 1 });

const given = (overrides: Partial<{ preferences: PreferenceSet; recipient: Recipient; webhooks: WebhookEndpoints; restoredTo: bigint; globalWebhook: RouterState['globalWebhook'] }> = {}): RouterState => ({
  preferences: () => overrides.preferences,
  recipient: () => overrides.recipient,
  webhooks: () => overrides.webhooks,
  restoredPast: (_table, offset) => BigInt(offset) < (overrides.restoredTo ?? 0n),
  globalWebhook: overrides.globalWebhook,
});

const summary = (outputs: ReturnType<typeof decideRouter>) => outputs.map((o) => {
  switch (o.kind) {
    case 'deliver': return `deliver ${o.command.channel}${o.command.webhook ? `:${o.command.webhook.endpoint_id}` : ''}`;
    case 'skipped': return `skipped ${o.channel}: ${o.reason}`;
    case 'audit': return `audit ${o.event.type}`;
    case 'table': return `table ${o.table}`;
    case 'inbox': return `inbox ${o.notification.id}`;
  }
});

describe('decideRouter', () => {
  it('given defaults and an address, when a loud type is routed, then it is e-mailed with a stable delivery id', () => {
    const outputs = decideRouter({ kind: 'notification', notification: notification() }, given({ recipient: alice }), ctx);
    expect(summary(outputs)).toEqual(['inbox n1', 'deliver email']);
    const command = outputs[1]?.kind === 'deliver' ? outputs[1].command : undefined;
    expect(command).toMatchObject({ delivery_id: stableId('n1:email'), user_id: 'u1', attempt: 1, email: { address: 'alice@example.test', display_name: 'Alice', locale: 'de' }, webhook: null, created_at: ctx.now });
    expect(command?.notification.id).toBe('n1');
  });

  it('given defaults, when a quiet type of info severity is routed, then e-mail is off', () => {
    expect(summary(decideRouter({ kind: 'notification', notification: notification('job_started', { severity: 'info' }) }, given({ recipient: alice }), ctx))).toEqual(['inbox n1', 'skipped email: turned off by the user']);
  });

  it('given the user turned e-mail and in-app off for a type, when it is routed, then neither is delivered', () => {
    const state = given({ recipient: alice, preferences: prefs({ type: 'job_failed', in_app: false, email: false, webhook: true }) });
    expect(summary(decideRouter({ kind: 'notification', notification: notification() }, state, ctx))).toEqual(['skipped in_app: turned off by the user', 'skipped email: turned off by the user']);
  });

  it('given the user turned a mandatory type off, when it is routed, then in-app and e-mail happen anyway, and it is audited', () => {
    const state = given({ recipient: alice, preferences: prefs({ type: 'security_mfa_disabled', in_app: false, email: false, webhook: false }) });
    expect(summary(decideRouter({ kind: 'notification', notification: notification('security_mfa_disabled', { category: 'security' }) }, state, ctx))).toEqual(['inbox n1', 'deliver email', 'audit security_mfa_disabled']);
  });

  it('given no e-mail address, when an e-mail type is routed, then e-mail is skipped with the reason', () => {
    expect(summary(decideRouter({ kind: 'notification', notification: notification() }, given(), ctx))).toEqual(['inbox n1', 'skipped email: no e-mail address']);
  });

  it('given webhook endpoints, when routed, then every enabled endpoint taking the type gets one command', () => {
    const state = given({ recipient: alice, webhooks: hooks(
      { ...ENDPOINT_DEFAULTS, id: 'all', url: 'https://a', format: 'generic', secret_encrypted: 'x', enabled: true, types: [] },
      { ...ENDPOINT_DEFAULTS, id: 'jobs', url: 'https://b', format: 'slack', secret_encrypted: null, enabled: true, types: ['job_failed'] },
      { ...ENDPOINT_DEFAULTS, id: 'agents', url: 'https://c', format: 'slack', secret_encrypted: null, enabled: true, types: ['agent_offline'] },
      { ...ENDPOINT_DEFAULTS, id: 'off', url: 'https://d', format: 'teams', secret_encrypted: null, enabled: false, types: [] },
    ) });
    const outputs = decideRouter({ kind: 'notification', notification: notification() }, state, ctx);
    expect(summary(outputs)).toEqual(['inbox n1', 'deliver email', 'deliver webhook:all', 'deliver webhook:jobs']);
    expect(outputs[2]?.kind === 'deliver' && outputs[2].command).toMatchObject({ delivery_id: stableId('n1:webhook:all'), webhook: { url: 'https://a', format: 'generic', secret_encrypted: 'x', global: false } });
  });

  it('given the webhook channel turned off, when routed, then the user\'s endpoints get nothing but the global webhook still does', () => {
    const state = given({
      recipient: alice,
      preferences: prefs({ type: 'job_failed', in_app: true, email: true, webhook: false }),
      webhooks: hooks({ ...ENDPOINT_DEFAULTS, id: 'all', url: 'https://a', format: 'generic', secret_encrypted: null, enabled: true, types: [] }),
      globalWebhook: { url: 'https://ops', format: 'discord', timeoutMs: 30_000 },
    });
    const outputs = decideRouter({ kind: 'notification', notification: notification() }, state, ctx);
    expect(summary(outputs)).toEqual(['inbox n1', 'deliver email', 'deliver webhook:global']);
    expect(outputs[2]?.kind === 'deliver' && outputs[2].command.webhook).toEqual({
      endpoint_id: 'global', url: 'https://ops', format: 'discord', secret_encrypted: null, global: true,
      headers: {}, timeout_ms: 30_000, previous_secret_encrypted: null, previous_secret_expires_at: null,
    });
  });

  it('given in-app on (the type\'s default), when routed, then the notification itself goes to the inbox', () => {
    const n = notification('job_started');
    const outputs = decideRouter({ kind: 'notification', notification: n }, given(), ctx);
    expect(outputs.filter((o) => o.kind === 'inbox')).toEqual([{ kind: 'inbox', notification: n }]);
  });

  it('given the user chose in-app on and e-mail off, when routed, then it goes to the inbox only', () => {
    const state = given({ recipient: alice, preferences: prefs({ type: 'job_failed', in_app: true, email: false, webhook: false }) });
    expect(summary(decideRouter({ kind: 'notification', notification: notification() }, state, ctx))).toEqual(['inbox n1', 'skipped email: turned off by the user']);
  });

  it('given the user turned in-app off for a type, when it is routed, then it stays out of the inbox while e-mail and webhooks still go', () => {
    const state = given({
      recipient: alice,
      preferences: prefs({ type: 'job_failed', in_app: false, email: true, webhook: true }),
      webhooks: hooks({ ...ENDPOINT_DEFAULTS, id: 'all', url: 'https://a', format: 'generic', secret_encrypted: null, enabled: true, types: [] }),
    });
    const outputs = decideRouter({ kind: 'notification', notification: notification() }, state, ctx);
    expect(summary(outputs)).toEqual(['skipped in_app: turned off by the user', 'deliver email', 'deliver webhook:all']);
    expect(outputs.some((o) => o.kind === 'inbox')).toBe(false);
  });

  it('given in-app off for one type, when another type is routed, then that one still goes to the inbox', () => {
    const state = given({ preferences: prefs({ type: 'job_failed', in_app: false, email: false, webhook: false }) });
    expect(summary(decideRouter({ kind: 'notification', notification: notification('agent_offline', { id: 'n2' }) }, state, ctx))).toEqual(['inbox n2', 'skipped email: no e-mail address']);
  });

  it('given in-app off for a mandatory type, when it is routed, then it goes to the inbox anyway', () => {
    const n = notification('security_password_changed', { category: 'security' });
    const state = given({ recipient: alice, preferences: prefs({ type: 'security_password_changed', in_app: false, email: false, webhook: false }) });
    const outputs = decideRouter({ kind: 'notification', notification: n }, state, ctx);
    expect(outputs[0]).toEqual({ kind: 'inbox', notification: n });
    expect(outputs.some((o) => o.kind === 'skipped' && o.channel === 'in_app')).toBe(false);
  });

  it('given a table record past the restore point, when decided, then it updates the table', () => {
    const value = prefs();
    expect(decideRouter({ kind: 'preferences', userId: 'u1', value, offset: '5' }, given({ restoredTo: 5n }), ctx)).toEqual([{ kind: 'table', table: 'preferences', userId: 'u1', value }]);
    expect(decideRouter({ kind: 'recipients', userId: 'u1', value: null, offset: '9' }, given({ restoredTo: 5n }), ctx)).toEqual([{ kind: 'table', table: 'recipients', userId: 'u1', value: null }]);
  });

  it('given a table record below the restore point, when decided, then nothing happens (the restore applied it)', () => {
    expect(decideRouter({ kind: 'webhooks', userId: 'u1', value: hooks(), offset: '4' }, given({ restoredTo: 5n }), ctx)).toEqual([]);
  });
});

describe('decideRouter: the catalogue\'s audit and signals', () => {
  it.each(['workflow_approval', 'workflow_approval_answered', 'approval_escalation', 'approval_timed_out', 'access_denied'])(
    'given %s (not category security), when routed, then it is audited', (type) => {
      const outputs = decideRouter({ kind: 'notification', notification: notification(type, { category: 'workflow' }) }, given(), ctx);
      expect(summary(outputs).at(-1)).toBe(`audit ${type}`);
      expect(outputs.at(-1)).toMatchObject({ kind: 'audit', event: { id: stableId('n1:audit'), notification_id: 'n1', type } });
    });

  it('given agent_reconnected (a signal), when routed, then nothing is delivered, not even to the global webhook', () => {
    const state = given({ recipient: alice, globalWebhook: { url: 'https://ops', format: 'generic', timeoutMs: 30_000 } });
    expect(summary(decideRouter({ kind: 'notification', notification: notification('agent_reconnected', { severity: 'high' }) }, state, ctx)))
      .toEqual(['skipped in_app: turned off by the user', 'skipped email: turned off by the user']);
  });

  it('given an access denial and a global webhook, when routed, then the global webhook gets it and it is audited', () => {
    const state = given({ recipient: alice, globalWebhook: { url: 'https://ops', format: 'generic', timeoutMs: 30_000 } });
    expect(summary(decideRouter({ kind: 'notification', notification: notification('access_denied', { category: 'access' }) }, state, ctx)))
      .toEqual(['inbox n1', 'deliver email', 'deliver webhook:global', 'audit access_denied']);
  });
});

describe('channelsFor', () => {
  it('uses the type\'s defaults, the user\'s choice over them, and forces mandatory channels', () => {
    expect(channelsFor('job_started', undefined)).toEqual({ in_app: true, email: false, webhook: true });
    expect(channelsFor('unknown_type', undefined)).toEqual({ in_app: true, email: false, webhook: true });
    expect(channelsFor('job_started', prefs({ type: 'job_started', in_app: false, email: true, webhook: false }))).toEqual({ in_app: false, email: true, webhook: false });
    expect(channelsFor('security_password_changed', prefs({ type: 'security_password_changed', in_app: false, email: false, webhook: false }))).toEqual({ in_app: true, email: true, webhook: false });
  });
});

describe('types named like Object.prototype members', () => {
  it('given a type such as toString or constructor, then it is a custom type, not a crash', () => {
    for (const type of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) expect(typeInfo(type)).toMatchObject({ category: 'custom', mandatory: false });
  });
});

describe('expired notifications', () => {
  const ctx: DecideContext = { now: Date.UTC(2026, 0, 1), newId: () => 'id', stableId };
  const state = {
    preferences: () => undefined, recipient: () => ({ user_id: 'u', email: 'u@example.test', display_name: null, locale: 'en', time_zone: 'UTC', roles: [], topics: [], updated_at: 0 }),
    webhooks: () => undefined, globalWebhook: undefined, restoredPast: () => false,
  } as unknown as RouterState;
  const n = (expiresAt: number | null): Notification => ({
    id: 'n1', user_id: 'u', type: 'security_mfa_disabled', category: 'security', severity: 'critical', title: 'MFA off', message: 'm', data: '{}', action_url: null,
    source_type: 'login', source_id: 's', source_key: 'k', event_id: null, occurred_at: ctx.now - 1_000, created_at: ctx.now - 500, expires_at: expiresAt,
  });

  it('given one expired before it is routed, then no channel gets it, and an audited type is still audited', () => {
    const outputs = decideRouter({ kind: 'notification', notification: n(ctx.now - 1) }, state, ctx);
    expect(outputs.map((o) => (o.kind === 'skipped' ? `${o.channel}: ${o.reason}` : o.kind))).toEqual([
      'in_app: expired before it was routed', 'email: expired before it was routed', 'webhook: expired before it was routed', 'audit',
    ]);
  });

  it('given one that expires later, then it is routed as any other', () => {
    expect(decideRouter({ kind: 'notification', notification: n(ctx.now + 60_000) }, state, ctx).map((o) => o.kind)).toEqual(['inbox', 'deliver', 'audit']);
  });
});

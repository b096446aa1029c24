import { describe, expect, it } from 'vitest';
import { decideRouter, type RouterState } from '../../src/processors/router/decide.ts';
import { channelsFor, type PreferenceSet, type Recipient } from '../../src/model/routing.ts';
import { defaultChannels, EMAIL_BY_DEFAULT } from '../../src/model/catalogue.ts';
import { SEVERITIES, type Notification, type Severity } from '../../src/model/notification.ts';
import type { DecideContext } from '../../src/processor.ts';
import { stableId } from '../../src/model/ids.ts';

// Nexora's rule "e-mail for high and critical severity": its high is our error, its critical our critical.
const ctx: DecideContext = { now: 1_700_000_000_000, newId: () => 'random', stableId };
const notification = (type: string, severity: Severity): Notification => ({
  id: 'n1', user_id: 'u1', type, category: 'job', severity, title: 'T', message: 'M', data: '{}', action_url: null,
  source_type: 'job', source_id: '1', source_key: `job:1:${type}:u1`, event_id: null, occurred_at: 1, created_at: 2,
});
const alice: Recipient = { user_id: 'u1', email: 'alice@example.test', display_name: 'Alice', locale: 'en', time_zone: 'UTC', roles: [], topics: [], updated_at: 1 };
const prefs = (...p: PreferenceSet['preferences']): PreferenceSet => ({ user_id: 'u1', preferences: p, updated_at: 1 });
const given = (preferences?: PreferenceSet): RouterState => ({
  preferences: () => preferences, recipient: () => alice, webhooks: () => undefined, restoredPast: () => false, globalWebhook: undefined,
});
const emailed = (n: Notification, preferences?: PreferenceSet) =>
  decideRouter({ kind: 'notification', notification: n }, given(preferences), ctx).some((o) => o.kind === 'deliver' && o.command.channel === 'email');

describe('e-mail by default for error, high and critical severity', () => {
  it('turns e-mail on for error, high and critical only', () => {
    expect(EMAIL_BY_DEFAULT).toEqual(['error', 'high', 'critical']);
    for (const severity of SEVERITIES) {
      expect(defaultChannels('job_started', severity)).toEqual({ in_app: true, email: severity === 'error' || severity === 'high' || severity === 'critical', webhook: true });
    }
    expect(defaultChannels('job_started')).toEqual({ in_app: true, email: false, webhook: true });
  });

  it('given no preference, when a quiet type of critical or error severity is routed, then it is e-mailed', () => {
    expect(emailed(notification('job_started', 'critical'))).toBe(true);
    expect(emailed(notification('job_started', 'error'))).toBe(true);
    expect(emailed(notification('an_unknown_type', 'critical'))).toBe(true);
  });

  it('given no preference, when a quiet type of info, success or warning severity is routed, then it is not e-mailed', () => {
    for (const severity of ['info', 'success', 'warning'] as const) expect(emailed(notification('job_started', severity))).toBe(false);
  });

  it('given the user turned e-mail off for the type, when a critical one is routed, then it is not e-mailed', () => {
    const off = prefs({ type: 'job_failed', in_app: true, email: false, webhook: true });
    expect(channelsFor('job_failed', off, 'critical')).toEqual({ in_app: true, email: false, webhook: true });
    expect(emailed(notification('job_failed', 'critical'), off)).toBe(false);
  });

  it('given the user turned e-mail on for a quiet type, when an info one is routed, then it is e-mailed', () => {
    expect(emailed(notification('job_started', 'info'), prefs({ type: 'job_started', in_app: true, email: true, webhook: true }))).toBe(true);
  });

  it('given a preference for another type only, when a critical one is routed, then the severity default applies', () => {
    expect(emailed(notification('job_started', 'critical'), prefs({ type: 'job_failed', in_app: true, email: false, webhook: true }))).toBe(true);
  });

  it('given the user turned a mandatory type off, when it is routed at any severity, then it is e-mailed anyway', () => {
    const off = prefs({ type: 'security_password_changed', in_app: false, email: false, webhook: false });
    for (const severity of SEVERITIES) {
      expect(channelsFor('security_password_changed', off, severity)).toEqual({ in_app: true, email: true, webhook: false });
      expect(emailed(notification('security_password_changed', severity), off)).toBe(true);
    }
  });
});

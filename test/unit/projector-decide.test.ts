import { describe, expect, it } from 'vitest';
import { decideProjection } from '../../src/processors/projector/decide.ts';
import type { Notification } from '../../src/model/notification.ts';
import type { AuditEvent, PreferenceSet, ReadEvent, Recipient, WebhookEndpoints } from '../../src/model/routing.ts';

const notification = { id: 'n1', user_id: 'u1' } as Notification;
const read: ReadEvent = { user_id: 'u1', action: 'read', notification_id: 'n1', before: null, at: 5 };
const prefs: PreferenceSet = { user_id: 'u1', preferences: [], updated_at: 1 };
const recipient = { user_id: 'u1' } as Recipient;
const webhooks: WebhookEndpoints = { user_id: 'u1', endpoints: [], updated_at: 1 };
const audit = { id: 'a1', user_id: 'u1' } as AuditEvent;
const ctx = { now: Date.UTC(2026, 0, 1) };

describe('decideProjection', () => {
  it('given a notification of notification.inbox, then it is inserted into the inbox', () => {
    expect(decideProjection({ kind: 'notification', notification }, ctx)).toEqual([{ kind: 'insert_notification', notification }]);
  });

  it('given a notification that expires later, then it is inserted', () => {
    const later = { ...notification, expires_at: ctx.now + 1 };
    expect(decideProjection({ kind: 'notification', notification: later }, ctx)).toEqual([{ kind: 'insert_notification', notification: later }]);
  });

  it('given a notification already expired when projected (a late record, a rebuild), then nothing is inserted', () => {
    expect(decideProjection({ kind: 'notification', notification: { ...notification, expires_at: ctx.now } }, ctx)).toEqual([]);
    expect(decideProjection({ kind: 'notification', notification: { ...notification, expires_at: ctx.now - 60_000 } }, ctx)).toEqual([]);
  });

  it('given a read event, then it is applied', () => {
    expect(decideProjection({ kind: 'read', event: read }, ctx)).toEqual([{ kind: 'apply_read', event: read }]);
  });

  it('given a table record, then the user\'s row is replaced', () => {
    expect(decideProjection({ kind: 'preferences', userId: 'u1', value: prefs }, ctx)).toEqual([{ kind: 'put_preferences', userId: 'u1', value: prefs }]);
    expect(decideProjection({ kind: 'recipients', userId: 'u1', value: recipient }, ctx)).toEqual([{ kind: 'put_recipient', userId: 'u1', value: recipient }]);
    expect(decideProjection({ kind: 'webhooks', userId: 'u1', value: webhooks }, ctx)).toEqual([{ kind: 'put_webhooks', userId: 'u1', value: webhooks }]);
  });

  it('given a tombstone, then the user\'s row is removed', () => {
    expect(decideProjection({ kind: 'preferences', userId: 'u1', value: null }, ctx)).toEqual([{ kind: 'put_preferences', userId: 'u1', value: null }]);
    expect(decideProjection({ kind: 'recipients', userId: 'u1', value: null }, ctx)).toEqual([{ kind: 'put_recipient', userId: 'u1', value: null }]);
    expect(decideProjection({ kind: 'webhooks', userId: 'u1', value: null }, ctx)).toEqual([{ kind: 'put_webhooks', userId: 'u1', value: null }]);
  });

  it('given an audit event, then it is recorded', () => {
    expect(decideProjection({ kind: 'audit', event: audit }, ctx)).toEqual([{ kind: 'insert_audit', event: audit }]);
  });
});

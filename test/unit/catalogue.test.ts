/** The catalogue: Nexora's and the access-control seed's types, their data schemas, and the defaults a type fills in. */
import { describe, expect, it } from 'vitest';
import { CATALOGUE, defaultChannels, isSignal, typeInfo, withCatalogueDefaults } from '../../src/model/catalogue.ts';
import { dataViolations, type DataSchema } from '../../src/model/data-schema.ts';
import { eventViolations } from '../../src/model/validate.ts';
import { channelsFor } from '../../src/model/routing.ts';
import type { NotificationEvent } from '../../src/model/notification.ts';

const event = (type: string, data: Record<string, unknown> | null, overrides: Partial<NotificationEvent> = {}): NotificationEvent => ({
  event_id: null, user_id: 'u1', audience: null, type, title: 'T', message: 'M', severity: 'medium', data: data === null ? null : JSON.stringify(data),
  action_url: null, source_type: 's', source_id: '1', occurred_at: 1_700_000_000_000, ...overrides,
});
const denial = { checkpointCode: 'cp-1', reason: 'ACCESS_DENIED' };
const approval = { approval_id: 'a-1', step: 'Rotate Credentials', respond_by: '2025-12-23T10:30:00Z' };

describe('the catalogue', () => {
  it('knows Nexora\'s types: credential changes mandatory and audited, alerts loud, system messages quiet', () => {
    const row = (type: string) => ({ category: typeInfo(type).category, mandatory: typeInfo(type).mandatory, audited: typeInfo(type).audited, ...typeInfo(type).defaults });
    expect(row('security_alert')).toEqual({ category: 'security', mandatory: false, audited: true, in_app: true, email: true, webhook: true });
    for (const type of ['api_key_rotation', 'password_change', 'account_lockout']) expect(row(type)).toMatchObject({ category: 'security', mandatory: true, audited: true });
    expect(row('system_notification')).toEqual({ category: 'system', mandatory: false, audited: false, in_app: true, email: false, webhook: true });
    expect(row('workflow_approval')).toMatchObject({ category: 'workflow', mandatory: false, audited: true, email: true });
  });

  it('audits every step of an approval and every access denial, not only category security', () => {
    for (const type of ['workflow_approval', 'workflow_approval_answered', 'approval_escalation', 'approval_timed_out', 'access_denied']) expect(typeInfo(type).audited).toBe(true);
    expect(typeInfo('job_failed').audited).toBe(false);
    expect(typeInfo('some_custom_type')).toMatchObject({ category: 'custom', audited: false, mandatory: false });
  });

  it('the [ESCALATION] notice cannot be turned off; an answer is in-app only', () => {
    expect(channelsFor('approval_escalation', { user_id: 'u', preferences: [{ type: 'approval_escalation', in_app: false, email: false, webhook: false }], updated_at: 1 }))
      .toEqual({ in_app: true, email: true, webhook: false });
    expect(defaultChannels('workflow_approval_answered', 'info')).toEqual({ in_app: true, email: false, webhook: false });
  });

  it('agent_reconnected is a signal: no channel, even at high severity', () => {
    expect(isSignal('agent_reconnected')).toBe(true);
    expect(defaultChannels('agent_reconnected', 'high')).toEqual({ in_app: false, email: false, webhook: false });
    expect(Object.keys(CATALOGUE).filter(isSignal)).toEqual(['agent_reconnected']);
  });
});

describe('data schemas', () => {
  it('given access_denied with the seed\'s example record, then it is valid', () => {
    const seed = {
      eventId: '550e8400-e29b-41d4-a716-446655440000', checkpointId: '660e8400-e29b-41d4-a716-446655440001', checkpointCode: 'cp-1',
      userId: '770e8400-e29b-41d4-a716-446655440002', userCode: 'user-123', fromZoneId: '880e8400-e29b-41d4-a716-446655440003', fromZoneCode: 'zone-a',
      toZoneId: '990e8400-e29b-41d4-a716-446655440004', toZoneCode: 'zone-b', reason: 'ACCESS_DENIED', details: 'Zone zone-a has no configured exit to OUT', timestamp: 1699123456789,
    };
    expect(eventViolations(event('access_denied', seed))).toEqual([]);
    expect(eventViolations(event('access_denied', { ...denial, userId: null, details: null }))).toEqual([]);
  });

  it('given access_denied without checkpoint code and reason, then both are named', () => {
    expect(eventViolations(event('access_denied', {}))).toEqual(['data.checkpointCode: required', 'data.reason: required']);
    expect(eventViolations(event('access_denied', null))).toEqual(['data.checkpointCode: required', 'data.reason: required']);
  });

  it('given access_denied with a wrong reason, a bad UUID, a misspelt field and a text timestamp, then each is named', () => {
    expect(eventViolations(event('access_denied', { ...denial, reason: 'NOPE', checkpointId: 'cp-1', checkpoint_code: 'x', timestamp: '2024' }))).toEqual([
      'data.reason: must be one of SIGNATURE_INVALID, TOKEN_INVALID, REPLAY, ACCESS_DENIED, STATE_MISMATCH, INTERNAL_ERROR',
      'data.checkpointId: must be a UUID',
      expect.stringMatching(/^data\.checkpoint_code: is not a field of this type's data \(fields: eventId, checkpointId, checkpointCode, /),
      'data.timestamp: must be an integer',
    ]);
  });

  it('given workflow_approval, then approval_id, step and an ISO respond_by are required, the URLs http(s), other fields kept', () => {
    expect(eventViolations(event('workflow_approval', { ...approval, escalation_contact: 'u9', approve_url: 'https://x.test/a', workflow_name: 'Credential Abuse Response' }))).toEqual([]);
    expect(eventViolations(event('workflow_approval', { respond_by: 'tomorrow', approve_url: 'javascript:alert(1)' }))).toEqual([
      'data.approval_id: required', 'data.step: required',
      'data.respond_by: must be an ISO 8601 time with a time zone (2025-12-23T10:30:00Z)', 'data.approve_url: must be an http(s) URL',
    ]);
  });

  it('given workflow_approval_answered, then the answer is approved or rejected', () => {
    expect(eventViolations(event('workflow_approval_answered', { approval_id: 'a-1', answer: 'approved', answered_by: 'u2' }))).toEqual([]);
    expect(eventViolations(event('workflow_approval_answered', { approval_id: 'a-1', answer: 'maybe' }))).toEqual(['data.answer: must be one of approved, rejected']);
  });

  it('given a type without a data schema, then data stays free-form', () => {
    expect(eventViolations(event('job_completed', { anything: [1, { deep: true }] }))).toEqual([]);
    expect(eventViolations(event('approval_escalation', { whatever: 1 }))).toEqual([]);
  });

  it('checks integers, numbers, booleans and minimums', () => {
    const schema: DataSchema = { type: 'object', properties: { n: { type: 'number', minimum: 0 }, i: { type: 'integer', minimum: 1 }, b: { type: 'boolean' } }, required: [], additionalProperties: true };
    expect(dataViolations(schema, { n: -1, i: 0, b: 'yes' })).toEqual(['data.n: must be at least 0', 'data.i: must be at least 1', 'data.b: must be true or false']);
    expect(dataViolations(schema, { n: 'x', i: 1.5 })).toEqual(['data.n: must be a number', 'data.i: must be an integer']);
    expect(dataViolations(schema, { n: 0.5, i: 1, b: false, other: null })).toEqual([]);
  });
});

describe('withCatalogueDefaults', () => {
  const security = { user_ids: [], roles: ['security_admin'], topics: [], all: false };

  it('given access_denied naming nobody, then it goes to the security_admin role, and is valid', () => {
    const nobody = event('access_denied', denial, { user_id: null });
    expect(eventViolations(nobody)).toEqual([]);
    expect(withCatalogueDefaults(nobody)).toEqual({ ...nobody, audience: security });
    const empty = { ...nobody, audience: { user_ids: [], roles: [], topics: [], all: false } };
    expect(withCatalogueDefaults(empty).audience).toEqual(security);
  });

  it('given access_denied naming a user or an audience, then it is unchanged', () => {
    const named = event('access_denied', denial);
    expect(withCatalogueDefaults(named)).toBe(named);
    const audience = event('access_denied', denial, { user_id: null, audience: { user_ids: [], roles: ['guards'], topics: [], all: false } });
    expect(withCatalogueDefaults(audience)).toBe(audience);
  });

  it('given another type naming nobody, then it is unchanged and still refused', () => {
    const nobody = event('security_alert', null, { user_id: null });
    expect(withCatalogueDefaults(nobody)).toBe(nobody);
    expect(eventViolations(nobody)).toEqual(['user_id: needed, or an audience with at least one user id, role or topic, or all']);
  });
});

import { describe, expect, it } from 'vitest';
import { eventFromBody } from '../../src/api/event-body.ts';

const now = 1_700_000_000_000;
/** An object nested `depth` levels: 1 is `{}`. Built in a loop, as a hostile client would. */
function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 1; i < depth; i += 1) value = { a: value };
  return value;
}
const minimal = { user_id: 'u1', type: 'job_started', title: 'Started', message: 'Job 9 started', source_type: 'job', source_id: '9' };

describe('eventFromBody', () => {
  it('given the minimal JSON body, then defaults fill the optional fields', () => {
    expect(eventFromBody(minimal, now)).toEqual({
      ok: true,
      event: { ...minimal, event_id: null, audience: null, action_url: null, severity: 'info', data: null, occurred_at: now, deliver_at: null, expires_at: null },
    });
  });

  it('given deliver_at and expires_at as ISO times, a delay, a timer key and cancels, then they are kept, times in ms', () => {
    const [deliverAt, expiresAt] = [now + 60_000, now + 86_400_000];
    const result = eventFromBody({ ...minimal, deliver_at: new Date(deliverAt).toISOString(), expires_at: new Date(expiresAt).toISOString(), delay_ms: 500, timer_key: 'agent-7:offline', cancels: ['a', 'b'] }, now);
    expect(result).toMatchObject({ ok: true, event: { deliver_at: deliverAt, expires_at: expiresAt, delay_ms: 500, timer_key: 'agent-7:offline', cancels: ['a', 'b'] } });
    expect(eventFromBody({ ...minimal, deliver_at: 'tomorrow' }, now)).toEqual({ ok: false, reasons: ['deliver_at: not an ISO 8601 time'] });
  });

  it('given timing fields no scheduler can honour, then every one is refused with its reason', () => {
    const result = eventFromBody({ ...minimal, occurred_at: 1_000, expires_at: -5, delay_ms: -1, timer_key: ' ', cancels: ['', 'x'.repeat(501)] }, now);
    expect(!result.ok && result.reasons).toEqual([
      'expires_at: must be a positive time in ms',
      'delay_ms: must be a whole number of ms from 0 to 31622400000 (366 days)',
      'timer_key: must not be empty',
      'cancels.0: must not be empty',
      'cancels.1: longer than 500 characters',
    ]);
    expect(eventFromBody({ ...minimal, occurred_at: 1_000, deliver_at: 1_000 + 367 * 86_400_000 }, now)).toEqual({ ok: false, reasons: ['deliver_at: more than 366 days after occurred_at'] });
  });

  it('given data as an object and occurred_at as ISO time, then they become JSON text and ms', () => {
    const result = eventFromBody({ ...minimal, data: { a: [1, 2] }, occurred_at: '2026-01-02T03:04:05.000Z' }, now);
    expect(result).toMatchObject({ ok: true, event: { data: '{"a":[1,2]}', occurred_at: Date.UTC(2026, 0, 2, 3, 4, 5) } });
  });

  it('given a body that is not an object, then it is refused', () => {
    expect(eventFromBody([minimal], now)).toEqual({ ok: false, reasons: ['body: must be a JSON object'] });
    expect(eventFromBody(null, now)).toEqual({ ok: false, reasons: ['body: must be a JSON object'] });
  });

  it('given many mistakes, then every one is reported', () => {
    const result = eventFromBody({ user_id: 'u1', type: 'x', title: 5, severity: 'fatal', data: 'text', source_type: 'job', colour: 'red' }, now);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reasons).toEqual([
      'data: must be a JSON object',
      'colour: is not a field of NotificationEvent',
      'title: 5 is not a valid string',
      'message: missing value is not a valid string',
      'severity: "fatal" is not a valid enum (info, success, warning, error, critical, low, medium, high)',
      'source_id: missing value is not a valid string',
    ]);
  });

  it('given a well-shaped body that breaks the rules, then the rule reasons are reported', () => {
    const result = eventFromBody({ ...minimal, user_id: '', type: 'Job Started' }, now);
    expect(!result.ok && result.reasons).toEqual([
      'user_id: must not be empty',
      'type: must be lower-case letters, digits, "_", "-" or "." and start with a letter (at most 100)',
    ]);
  });

  it('given an unparseable occurred_at, then that is the reason, once', () => {
    expect(eventFromBody({ ...minimal, occurred_at: 'yesterday' }, now)).toEqual({ ok: false, reasons: ['occurred_at: not an ISO 8601 time'] });
  });

  it('given data nested 20,000 levels deep (once a 500 from a stack overflow in JSON.stringify), then it is refused with the reason', () => {
    expect(eventFromBody({ ...minimal, data: nested(20_000) }, now)).toEqual({ ok: false, reasons: ['data: nested deeper than 32 levels'] });
  });

  it('given data nested exactly 32 levels, then it is accepted; 33, refused', () => {
    expect(eventFromBody({ ...minimal, data: nested(32) }, now).ok).toBe(true);
    expect(eventFromBody({ ...minimal, data: nested(33) }, now)).toEqual({ ok: false, reasons: ['data: nested deeper than 32 levels'] });
  });

  it('given another field nested deep, then that is the reason, before the schema check would stringify it', () => {
    expect(eventFromBody({ ...minimal, title: [nested(20_000)], colour: nested(40) }, now)).toEqual({
      ok: false, reasons: ['title: nested deeper than 32 levels', 'colour: nested deeper than 32 levels'],
    });
  });

  it('given data with U+0000 or an unpaired surrogate, which Postgres jsonb refuses, then it is refused', () => {
    const reason = 'data: must not contain U+0000 or unpaired surrogates (Postgres cannot store them)';
    expect(eventFromBody({ ...minimal, data: { a: 'x\u0000y' } }, now)).toEqual({ ok: false, reasons: [reason] });
    expect(eventFromBody({ ...minimal, data: { '\ud800': 1 } }, now)).toEqual({ ok: false, reasons: [reason] });
    expect(eventFromBody({ ...minimal, data: { a: '\ud83d\ude00' } }, now).ok).toBe(true);
  });

  it.each(['low', 'medium', 'high', 'critical'])('given Nexora\'s severity %s, then it is accepted', (severity) => {
    expect(eventFromBody({ ...minimal, type: 'security_alert', severity }, now)).toMatchObject({ ok: true, event: { severity } });
  });

  it('given an access denial naming nobody, then it is accepted for the security_admin role', () => {
    const body = { type: 'access_denied', title: 'Access denied at cp-1', message: '', source_type: 'checkpoint', source_id: 'd-1', data: { checkpointCode: 'cp-1', reason: 'REPLAY' } };
    expect(eventFromBody(body, now)).toMatchObject({ ok: true, event: { user_id: null, audience: { user_ids: [], roles: ['security_admin'], topics: [], all: false } } });
  });

  it('given an access denial with a reason the seed does not have, then it is refused with the reason', () => {
    const body = { type: 'access_denied', title: 'Denied', message: '', source_type: 'checkpoint', source_id: 'd-2', data: { checkpointCode: 'cp-1', reason: 'BECAUSE' } };
    expect(eventFromBody(body, now)).toEqual({ ok: false, reasons: ['data.reason: must be one of SIGNATURE_INVALID, TOKEN_INVALID, REPLAY, ACCESS_DENIED, STATE_MISMATCH, INTERNAL_ERROR'] });
  });
});

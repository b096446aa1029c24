import { describe, expect, it } from 'vitest';
import { eventViolations, nestsDeeperThan } from '../../src/model/validate.ts';
import type { NotificationEvent } from '../../src/model/notification.ts';

// An event as it arrives over Kafka: `data` is JSON text.
const event: NotificationEvent = {
  event_id: null, user_id: 'u1', audience: null, type: 'job_started', title: 'Started', message: 'Job 9 started', severity: 'info',
  data: null, action_url: null, source_type: 'job', source_id: '9', occurred_at: 1_700_000_000_000,
};
const nestedText = (depth: number) => `${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`;

describe('eventViolations', () => {
  it('given data text nested 20,000 levels deep, then it is refused without overflowing the stack', () => {
    expect(eventViolations({ ...event, data: `{"a":${'['.repeat(20_000)}${']'.repeat(20_000)}}` })).toEqual(['data: nested deeper than 32 levels']);
  });

  it('given data text nested 32 levels, then it passes; 33, it is refused', () => {
    expect(eventViolations({ ...event, data: nestedText(32) })).toEqual([]);
    expect(eventViolations({ ...event, data: nestedText(33) })).toEqual(['data: nested deeper than 32 levels']);
  });

  it('given data text that Postgres jsonb refuses, then it is refused', () => {
    const reason = 'data: must not contain U+0000 or unpaired surrogates (Postgres cannot store them)';
    expect(eventViolations({ ...event, data: '{"a":"\\u0000"}' })).toEqual([reason]);
    expect(eventViolations({ ...event, data: '{"a":["\\udc00"]}' })).toEqual([reason]);
    expect(eventViolations({ ...event, data: '{"a":"\\ud83d\\ude00"}' })).toEqual([]);
  });

  it('given U+0000 in a text field, which Postgres text refuses, then each field is named', () => {
    expect(eventViolations({ ...event, title: 'a\u0000', source_id: '\u0000', message: '\u0000', event_id: 'e\u0000', action_url: 'https://x.test/\u0000' })).toEqual([
      'source_id: must not contain U+0000',
      'title: must not contain U+0000',
      'message: must not contain U+0000',
      'event_id: must not contain U+0000',
      'action_url: must be an http(s) URL',
    ]);
  });
});

describe('eventViolations, ids', () => {
  it('given an unpaired surrogate in user_id (its notification id, a UUIDv5 of the source key, threw and POST /v1/events answered 500), then each field is named', () => {
    expect(eventViolations({ ...event, user_id: '\ud800', source_type: 'a\udc00', source_id: '\ud83d\ude00' })).toEqual([
      'user_id: must not contain unpaired surrogates',
      'source_type: must not contain unpaired surrogates',
    ]);
    expect(eventViolations({ ...event, user_id: null, audience: { user_ids: ['u2', '\udbff'], roles: [], topics: [], all: false } })).toEqual([
      'audience.user_ids.1: must not contain unpaired surrogates',
    ]);
  });
});

describe('nestsDeeperThan', () => {
  it('counts objects and arrays, not scalars', () => {
    expect(nestsDeeperThan('text', 0)).toBe(false);
    expect(nestsDeeperThan({}, 1)).toBe(false);
    expect(nestsDeeperThan({ a: [1] }, 1)).toBe(true);
    expect(nestsDeeperThan({ a: [1], b: { c: 2 } }, 2)).toBe(false);
    expect(nestsDeeperThan([[[]]], 2)).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { decideAccept } from '../../src/processors/accept/decide.ts';
import type { DecideContext } from '../../src/processors/context.ts';
import type { NotificationEvent } from '../../src/model/notification.ts';
import { stableId } from '../../src/model/ids.ts';
import { ValidationError } from '../../src/errors.ts';

const ctx: DecideContext = { now: 1_700_000_000_000, newId: () => 'random-id', stableId };

const event = (overrides: Partial<NotificationEvent> = {}): NotificationEvent => ({
  event_id: 'evt-1',
  user_id: 'u1',
  type: 'job_failed',
  title: 'Job failed',
  message: 'Task 3 ran out of memory',
  severity: 'error',
  data: '{"job_id":7}',
  action_url: null,
  source_type: 'job',
  source_id: '7',
  occurred_at: 1_699_999_999_000,
  ...overrides,
});

describe('decideAccept', () => {
  it('given a valid event, when decided, then one notification is accepted for its recipient with a stable id', () => {
    const [output, ...rest] = decideAccept(event(), ctx);
    expect(rest).toEqual([]);
    expect(output).toEqual({
      kind: 'accepted',
      notification: {
        id: stableId('job:7:job_failed:u1'),
        user_id: 'u1',
        type: 'job_failed',
        category: 'job',
        severity: 'error',
        title: 'Job failed',
        message: 'Task 3 ran out of memory',
        data: '{"job_id":7}',
        action_url: null,
        source_type: 'job',
        source_id: '7',
        source_key: 'job:7:job_failed:u1',
        event_id: 'evt-1',
        occurred_at: 1_699_999_999_000,
        created_at: ctx.now,
      },
    });
  });

  it('given the same source twice, when decided, then both get the same id (replays reproduce ids)', () => {
    const first = decideAccept(event({ event_id: 'a' }), ctx)[0]?.notification.id;
    const second = decideAccept(event({ event_id: 'b' }), { ...ctx, now: ctx.now + 1 })[0]?.notification.id;
    expect(first).toBe(second);
  });

  it('given another recipient of the same source, when decided, then the id differs', () => {
    const a = decideAccept(event({ user_id: 'u1' }), ctx)[0]?.notification.id;
    const b = decideAccept(event({ user_id: 'u2' }), ctx)[0]?.notification.id;
    expect(a).not.toBe(b);
  });

  it('given an event without data, when decided, then the notification carries an empty object', () => {
    expect(decideAccept(event({ data: null }), ctx)[0]?.notification.data).toBe('{}');
  });

  it('given a type outside the catalogue, when decided, then it is accepted as category custom', () => {
    expect(decideAccept(event({ type: 'invoice_paid' }), ctx)[0]?.notification.category).toBe('custom');
  });

  it('given an event that breaks several rules, when decided, then it is rejected as poison with every reason', () => {
    let thrown: unknown;
    try {
      decideAccept(event({ user_id: ' ', type: 'Bad Type', data: '[1]', action_url: 'ftp://x' }), ctx);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ValidationError);
    expect((thrown as ValidationError).kind).toBe('poison');
    expect((thrown as ValidationError).reasons).toEqual([
      'user_id: must not be empty',
      'type: must be lower-case letters, digits, "_", "-" or "." and start with a letter (at most 100)',
      'data: must be a JSON object',
      'action_url: must be an http(s) URL',
    ]);
  });
});

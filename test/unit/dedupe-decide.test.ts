import { describe, expect, it } from 'vitest';
import { decideDedupe, expireDedupe, type DedupeEntry, type DedupeState } from '../../src/processors/dedupe/decide.ts';
import type { DecideContext } from '../../src/processor.ts';
import type { NotificationEvent } from '../../src/model/notification.ts';
import { stableId } from '../../src/model/ids.ts';
import { ValidationError } from '../../src/errors.ts';

const HOUR = 3_600_000;
const ctx: DecideContext = { now: 1_700_000_000_000, newId: () => 'random-id', stableId };

const event = (overrides: Partial<NotificationEvent> = {}): NotificationEvent => ({
  event_id: 'evt-1',
  user_id: 'u1',
  audience: null,
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

/** A state that has seen the given entries. */
const given = (...entries: DedupeEntry[]): DedupeState => {
  const map = new Map(entries.map((e) => [e.source_key, e]));
  return { windowMs: 168 * HOUR, firstSeenAt: (key) => map.get(key)?.first_seen_at, members: () => [], partitionOf, defaultDelays: {} };
};
const nothingSeen = given();
/** A stand-in for murmur2 over 4 partitions: any pure function of the key will do for the decider. */
function partitionOf(key: string): number {
  return key.length % 4;
}
/** A record under `key` on the partition that key belongs on. */
const onHome = (key: string | null, value: NotificationEvent) => ({ key, partition: partitionOf(key ?? ''), value });

describe('decideDedupe', () => {
  it('given a new source key under its own key, when decided, then it is remembered and accepted with a stable id', () => {
    const outputs = decideDedupe(onHome('job:7:job_failed:u1', event()), nothingSeen, ctx);
    const id = stableId('job:7:job_failed:u1');
    expect(outputs).toEqual([
      { kind: 'remember', entry: { source_key: 'job:7:job_failed:u1', notification_id: id, first_seen_at: ctx.now } },
      {
        kind: 'accepted',
        notification: {
          id, user_id: 'u1', type: 'job_failed', category: 'job', severity: 'error', title: 'Job failed', message: 'Task 3 ran out of memory',
          data: '{"job_id":7}', action_url: null, source_type: 'job', source_id: '7', source_key: 'job:7:job_failed:u1', event_id: 'evt-1',
          occurred_at: 1_699_999_999_000, created_at: ctx.now, expires_at: null,
        },
      },
    ]);
  });

  it('given a source key seen inside the window, when decided again, then it is a duplicate and nothing is accepted', () => {
    const state = given({ source_key: 'job:7:job_failed:u1', notification_id: 'n', first_seen_at: ctx.now - HOUR });
    expect(decideDedupe(onHome('job:7:job_failed:u1', event({ event_id: 'retry' })), state, ctx)).toEqual([
      { kind: 'duplicate', sourceKey: 'job:7:job_failed:u1' },
    ]);
  });

  it('given a source key seen longer ago than the window, when decided, then it is accepted again', () => {
    const state = given({ source_key: 'job:7:job_failed:u1', notification_id: 'n', first_seen_at: ctx.now - 168 * HOUR });
    expect(decideDedupe(onHome('job:7:job_failed:u1', event()), state, ctx).map((o) => o.kind)).toEqual(['remember', 'accepted']);
  });

  it('given an event under another key, when decided, then it is only repartitioned under its source key and that key\'s partition', () => {
    const e = event();
    const home = partitionOf('job:7:job_failed:u1');
    expect(decideDedupe(onHome('some-producer-key', e), nothingSeen, ctx)).toEqual([{ kind: 'repartition', key: 'job:7:job_failed:u1', partition: home, event: e }]);
    expect(decideDedupe(onHome(null, e), nothingSeen, ctx)).toEqual([{ kind: 'repartition', key: 'job:7:job_failed:u1', partition: home, event: e }]);
  });

  it('given an event under its own key on another partition (another partitioner), when decided, then it is repartitioned, not decided there', () => {
    const e = event();
    const home = partitionOf('job:7:job_failed:u1');
    const state = given({ source_key: 'job:7:job_failed:u1', notification_id: 'n', first_seen_at: ctx.now - HOUR });
    for (const elsewhere of [0, 1, 2, 3].filter((p) => p !== home)) {
      expect(decideDedupe({ key: 'job:7:job_failed:u1', partition: elsewhere, value: e }, state, ctx)).toEqual([{ kind: 'repartition', key: 'job:7:job_failed:u1', partition: home, event: e }]);
    }
  });

  it('given an audience, when decided, then it is split into one single-user event per recipient, each sent to its own key and partition', () => {
    const e = event({ user_id: null, audience: { user_ids: ['a', 'b', 'a', 'c'], roles: [], topics: [], all: false }, source_type: 'maintenance', source_id: 'm1', type: 'maintenance_announcement' });
    const outputs = decideDedupe(onHome('maintenance:m1:maintenance_announcement:*', e), nothingSeen, ctx);
    expect(outputs).toEqual(['a', 'b', 'c'].map((user) => {
      const key = `maintenance:m1:maintenance_announcement:${user}`;
      return { kind: 'fan_out', key, partition: partitionOf(key), event: { ...e, user_id: user, audience: null, deliver_at: null, delay_ms: null, timer_key: null, cancels: [] } };
    }));
  });

  it('given a recipient\'s event split from an audience, when the same recipient\'s single-user event was seen, then it is a duplicate (and the other way round)', () => {
    const e = event({ user_id: null, audience: { user_ids: ['b'], roles: [], topics: [], all: false }, source_type: 'maintenance', source_id: 'm1', type: 'maintenance_announcement' });
    const [split] = decideDedupe(onHome('maintenance:m1:maintenance_announcement:*', e), nothingSeen, ctx);
    if (split?.kind !== 'fan_out') throw new Error(`expected a fan_out, got ${split?.kind}`);
    const single = event({ user_id: 'b', source_type: 'maintenance', source_id: 'm1', type: 'maintenance_announcement' });
    const [remembered] = decideDedupe(onHome(split.key, single), nothingSeen, ctx);
    if (remembered?.kind !== 'remember') throw new Error(`expected remember, got ${remembered?.kind}`);
    expect(decideDedupe({ key: split.key, partition: split.partition, value: split.event }, given(remembered.entry), ctx)).toEqual([{ kind: 'duplicate', sourceKey: split.key }]);
    const [fromAudience] = decideDedupe({ key: split.key, partition: split.partition, value: split.event }, nothingSeen, ctx);
    if (fromAudience?.kind !== 'remember') throw new Error(`expected remember, got ${fromAudience?.kind}`);
    expect(decideDedupe(onHome(split.key, single), given(fromAudience.entry), ctx)).toEqual([{ kind: 'duplicate', sourceKey: split.key }]);
  });

  it('given an audience naming a role and a topic, when decided, then their current members and the listed users get one event each', () => {
    const e = event({ user_id: null, audience: { user_ids: ['listed', 'admin-1'], roles: ['admin'], topics: ['gpu-farm'], all: false }, type: 'agent_offline', source_type: 'agent', source_id: 'gpu-3' });
    const state: DedupeState = { ...nothingSeen, members: (roles, topics) => (roles.includes('admin') && topics.includes('gpu-farm') ? ['admin-1', 'admin-2', 'watcher'] : []) };
    const users = decideDedupe(onHome('agent:gpu-3:agent_offline:*', e), state, ctx).flatMap((o) => (o.kind === 'fan_out' ? [o.event.user_id] : []));
    expect(users).toEqual(['listed', 'admin-1', 'admin-2', 'watcher']);
  });

  it('given an audience of all, when decided, then every known recipient gets one event, listed users too, once each', () => {
    const e = event({ user_id: null, audience: { user_ids: ['listed', 'known-2'], roles: [], topics: [], all: true }, type: 'maintenance_announcement', source_type: 'maintenance', source_id: 'm1' });
    const state: DedupeState = { ...nothingSeen, members: (_roles, _topics, all) => (all ? ['known-1', 'known-2', 'known-3'] : []) };
    const users = decideDedupe(onHome('maintenance:m1:maintenance_announcement:*', e), state, ctx).flatMap((o) => (o.kind === 'fan_out' ? [o.event.user_id] : []));
    expect(users).toEqual(['listed', 'known-2', 'known-1', 'known-3']);
  });

  it('given a role or topic that is not a plain name, when decided, then it is poison', () => {
    expect(() => decideDedupe(onHome('k', event({ user_id: null, audience: { user_ids: [], roles: ['Admins!'], topics: [], all: false } })), nothingSeen, ctx)).toThrow('audience.roles.0: must be lower-case');
  });

  it('given an event without data, when accepted, then the notification carries an empty object', () => {
    const accepted = decideDedupe(onHome('job:7:job_failed:u1', event({ data: null })), nothingSeen, ctx)[1];
    expect(accepted?.kind === 'accepted' && accepted.notification.data).toBe('{}');
  });

  it('given a type outside the catalogue, when accepted, then its category is custom', () => {
    const accepted = decideDedupe(onHome('job:7:invoice_paid:u1', event({ type: 'invoice_paid' })), nothingSeen, ctx)[1];
    expect(accepted?.kind === 'accepted' && accepted.notification.category).toBe('custom');
  });

  it('given an event that breaks several rules, when decided, then it is poison with every reason', () => {
    let thrown: unknown;
    try {
      decideDedupe(onHome('k', event({ user_id: ' ', type: 'Bad Type', data: '[1]', action_url: 'ftp://x', title: ' ' })), nothingSeen, ctx);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ValidationError);
    expect((thrown as ValidationError).kind).toBe('poison');
    expect((thrown as ValidationError).reasons).toEqual([
      'user_id: must not be empty',
      'title: must not be empty',
      'type: must be lower-case letters, digits, "_", "-" or "." and start with a letter (at most 100)',
      'data: must be a JSON object',
      'action_url: must be an http(s) URL',
    ]);
  });

  it('given neither a user nor an audience, or both, when decided, then it is poison', () => {
    expect(() => decideDedupe(onHome('k', event({ user_id: null })), nothingSeen, ctx)).toThrow('user_id: needed, or an audience with at least one user id, role or topic');
    expect(() => decideDedupe(onHome('k', event({ audience: { user_ids: ['x'], roles: [], topics: [], all: false } })), nothingSeen, ctx)).toThrow('give either user_id or audience, not both');
    expect(() => decideDedupe(onHome('k', event({ user_id: null, audience: { user_ids: ['ok', ''], roles: [], topics: [], all: false } })), nothingSeen, ctx)).toThrow('audience.user_ids.1: must not be empty');
  });
});

describe('expireDedupe', () => {
  const entry = (key: string, ageHours: number): [string, number] => [key, ctx.now - ageHours * HOUR];

  it('given keys older and younger than the window, when expired, then only the old ones get tombstones', () => {
    expect(expireDedupe([entry('old', 200), entry('young', 1), entry('edge', 168)], ctx.now, 168 * HOUR, 10)).toEqual([
      { kind: 'forget', sourceKey: 'old' },
      { kind: 'forget', sourceKey: 'edge' },
    ]);
  });

  it('given more expired keys than the limit, when expired, then at most the limit are forgotten this time', () => {
    expect(expireDedupe([entry('a', 200), entry('b', 200), entry('c', 200)], ctx.now, 168 * HOUR, 2)).toHaveLength(2);
  });
});

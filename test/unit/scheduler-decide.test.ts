import { describe, expect, it } from 'vitest';
import { decideTick, decideTimer } from '../../src/processors/scheduler/decide.ts';
import { decideDedupe, type DedupeOutput, type DedupeState } from '../../src/processors/dedupe/decide.ts';
import { approvalTimerKeys } from '../../src/model/approvals.ts';
import { eventKey, type NotificationEvent } from '../../src/model/notification.ts';
import { stableId } from '../../src/model/ids.ts';
import type { Timer } from '../../src/model/timer.ts';

const T0 = Date.UTC(2026, 11, 2, 10, 0, 0);
const MIN = 60_000;

const event = (overrides: Partial<NotificationEvent> = {}): NotificationEvent => ({
  event_id: null, user_id: 'alice', audience: null, type: 'agent_offline', title: 'Agent offline', message: 'agent-7 went offline', severity: 'warning',
  data: null, action_url: null, source_type: 'agent', source_id: 'agent-7:s1', occurred_at: T0,
  deliver_at: null, delay_ms: null, timer_key: null, cancels: [], expires_at: null, ...overrides,
});
const pending = (key: string, occurredAt: number, dueAt: number): Timer => ({ timer_key: key, state: 'pending', event: event({ occurred_at: occurredAt }), due_at: dueAt, occurred_at: occurredAt, at: occurredAt });
const cancel = (key: string, occurredAt: number, at = occurredAt): Timer => ({ timer_key: key, state: 'cancelled', event: null, due_at: null, occurred_at: occurredAt, at });
const table = (...timers: Timer[]) => {
  const map = new Map(timers.map((t) => [t.timer_key, t]));
  return { get: (key: string) => map.get(key), entries: () => map.entries(), cancelRetentionMs: 60 * MIN };
};

describe('decideTimer', () => {
  it('given no timer, when one is scheduled, then it is put in the table', () => {
    const timer = pending('k', T0, T0 + 5 * MIN);
    expect(decideTimer(timer, table())).toEqual([{ kind: 'put', timer }]);
  });

  it('given a pending timer, when it is cancelled by a later event, then the cancel replaces it: it will not fire', () => {
    const marker = cancel('k', T0 + MIN);
    expect(decideTimer(marker, table(pending('k', T0, T0 + 5 * MIN)))).toEqual([{ kind: 'put', timer: marker }]);
  });

  it('given a cancel that arrived first, when the timer of an earlier event arrives, then it is ignored', () => {
    expect(decideTimer(pending('k', T0, T0 + 5 * MIN), table(cancel('k', T0 + MIN))).map((o) => o.kind)).toEqual(['ignore']);
    // At the same instant too: a cancel removes what was scheduled at or before it.
    expect(decideTimer(pending('k', T0, T0 + 5 * MIN), table(cancel('k', T0))).map((o) => o.kind)).toEqual(['ignore']);
  });

  it('given a cancel, when the key is scheduled again by a later event, then it is pending again (re-scheduled)', () => {
    const again = pending('k', T0 + 2 * MIN, T0 + 7 * MIN);
    expect(decideTimer(again, table(cancel('k', T0 + MIN)))).toEqual([{ kind: 'put', timer: again }]);
  });

  it('given a pending timer, when the key is scheduled again, then the later event\'s timer wins whichever arrives last', () => {
    const [older, newer] = [pending('k', T0, T0 + 5 * MIN), pending('k', T0 + MIN, T0 + 6 * MIN)];
    expect(decideTimer(newer, table(older))).toEqual([{ kind: 'put', timer: newer }]);
    expect(decideTimer(older, table(newer)).map((o) => o.kind)).toEqual(['ignore']);
  });

  it('given a pending timer, when one of the same instant arrives (a repeat, a recipient\'s copy of an approval request), then the first stays', () => {
    const first = pending('k', T0, T0 + 5 * MIN);
    const copy = { ...pending('k', T0, T0 + 5 * MIN), event: event({ user_id: 'approver-1' }) };
    expect(decideTimer(copy, table(first)).map((o) => o.kind)).toEqual(['ignore']);
  });

  it('given a pending timer of a later event, when an older cancel arrives, then the timer stays', () => {
    expect(decideTimer(cancel('k', T0), table(pending('k', T0 + MIN, T0 + 6 * MIN))).map((o) => o.kind)).toEqual(['ignore']);
  });

  it('given no timer (already fired), when a late cancel arrives, then it only leaves a marker', () => {
    const late = cancel('k', T0 + 10 * MIN);
    expect(decideTimer(late, table())).toEqual([{ kind: 'put', timer: late }]);
  });

  it('given a pending request without its event, then it is poison', () => {
    expect(() => decideTimer({ ...pending('k', T0, T0), event: null }, table())).toThrow('a pending timer needs its event and due_at');
  });
});

describe('decideTick', () => {
  it('given due and not-yet-due timers, when it ticks, then only the due ones fire, longest overdue first, as events due now', () => {
    const state = table(pending('late', T0, T0 + 2 * MIN), pending('later', T0, T0 + 3 * MIN), pending('early', T0, T0 + MIN), pending('future', T0, T0 + 60 * MIN));
    const outputs = decideTick(state, { now: T0 + 3 * MIN }, 100);
    expect(outputs.map((o) => (o.kind === 'fire' ? o.timerKey : o.kind))).toEqual(['early', 'late', 'later']);
    const [first] = outputs;
    expect(first?.kind === 'fire' && first.event).toMatchObject({ deliver_at: T0 + MIN, delay_ms: null, timer_key: null, cancels: [] });
  });

  it('given cancel markers, when it ticks, then those past the retention are forgotten', () => {
    const outputs = decideTick(table(cancel('old', T0, T0), cancel('recent', T0, T0 + 30 * MIN)), { now: T0 + 61 * MIN }, 100);
    expect(outputs).toEqual([{ kind: 'forget', timerKey: 'old' }]);
  });

  it('given more due than the limit, when it ticks, then it fires the limit and leaves the rest for the next tick', () => {
    const state = table(...Array.from({ length: 5 }, (_, i) => pending(`k${i}`, T0, T0 + i)));
    expect(decideTick(state, { now: T0 + MIN }, 2).map((o) => (o.kind === 'fire' ? o.timerKey : o.kind))).toEqual(['k0', 'k1']);
  });
});

describe('decideDedupe with time', () => {
  const ctx = { now: T0 + 1_000, newId: () => 'id', stableId };
  const state = (defaultDelays: Record<string, number> = {}): DedupeState => ({
    windowMs: 168 * 60 * MIN, firstSeenAt: () => undefined, members: () => ['approver-1', 'approver-2'], partitionOf: () => 0, defaultDelays,
  });
  const decide = (e: NotificationEvent, s = state()) => decideDedupe({ key: eventKey(e), partition: 0, value: e }, s, ctx);
  const timers = (outputs: DedupeOutput[]) => outputs.flatMap((o) => (o.kind === 'timer' ? [o.timer] : []));

  it('given a delay, then the event becomes a pending timer under its source key, due occurred_at + delay, and nothing is accepted yet', () => {
    const e = event({ delay_ms: 5 * MIN });
    const outputs = decide(e);
    expect(outputs.map((o) => o.kind)).toEqual(['timer']);
    expect(timers(outputs)[0]).toEqual({ timer_key: eventKey(e), state: 'pending', event: e, due_at: T0 + 5 * MIN, occurred_at: T0, at: ctx.now });
  });

  it('given the type\'s default delay and a timer_key, then it waits for the buffer under that key', () => {
    const [timer] = timers(decide(event({ timer_key: 'agent-7:offline' }), state({ agent_offline: 5 * MIN })));
    expect(timer).toMatchObject({ timer_key: 'agent-7:offline', due_at: T0 + 5 * MIN });
  });

  it('given a deliver_at that has passed (as the scheduler sends it back), then it is accepted at once, not delayed again', () => {
    const outputs = decide(event({ deliver_at: T0 + 500, timer_key: 'agent-7:offline' }), state({ agent_offline: 5 * MIN }));
    expect(outputs.map((o) => o.kind)).toEqual(['remember', 'accepted']);
  });

  it('given cancels, then each becomes a cancel of that key as of the event\'s time, and the event itself goes on', () => {
    const outputs = decide(event({ type: 'agent_reconnected', source_id: 'agent-7:s2', cancels: ['agent-7:offline'] }));
    expect(outputs.map((o) => o.kind)).toEqual(['timer', 'remember', 'accepted']);
    expect(timers(outputs)).toEqual([{ timer_key: 'agent-7:offline', state: 'cancelled', event: null, due_at: null, occurred_at: T0, at: ctx.now }]);
  });

  it('given an approval request, then its approvers get it now, and its escalation and timeout notice are scheduled at respond_by', () => {
    const respondBy = new Date(T0 + 30 * MIN).toISOString();
    const request = event({
      type: 'workflow_approval', user_id: null, audience: { user_ids: [], roles: ['approver'], topics: [], all: false }, source_type: 'workflow', source_id: 'exec-123',
      title: 'Approve: Rotate Credentials', data: JSON.stringify({ approval_id: 'ap-1', step: 'Rotate Credentials', respond_by: respondBy, escalation_contact: 'boss' }),
    });
    const outputs = decide(request);
    expect(outputs.filter((o) => o.kind === 'fan_out')).toHaveLength(2);
    const keys = approvalTimerKeys('ap-1');
    expect(timers(outputs).map((t) => [t.timer_key, t.due_at, t.event?.type, t.event?.user_id])).toEqual([
      [keys.timeout, T0 + 30 * MIN, 'approval_timed_out', null],
      [keys.escalation, T0 + 30 * MIN, 'approval_escalation', 'boss'],
    ]);
    expect(timers(outputs)[1]?.event).toMatchObject({ title: '[ESCALATION] Approval Timeout: Rotate Credentials', severity: 'high', audience: null });
    expect(timers(outputs)[0]?.event?.audience).toEqual(request.audience);
  });

  it('given an answer to the approval, then it cancels both of its timers', () => {
    const answer = event({ type: 'workflow_approval_answered', source_type: 'workflow', source_id: 'exec-123:answer', data: JSON.stringify({ approval_id: 'ap-1', answer: 'approved' }) });
    const keys = approvalTimerKeys('ap-1');
    expect(timers(decide(answer)).map((t) => [t.timer_key, t.state])).toEqual([[keys.escalation, 'cancelled'], [keys.timeout, 'cancelled']]);
  });
});

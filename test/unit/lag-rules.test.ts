import { describe, expect, it } from 'vitest';
import { evaluateGroup, evaluatePartition, worse, type LagSample, type PartitionStatus } from '../../src/health/lag-rules.ts';
import { tierWaits } from '../../src/health/lag-monitor.ts';

const SIZE = 5;
const INTERVAL = 1_000; // ms

/** A window of samples one interval apart, from committed offsets and log-end offsets. */
function windowOf(offsets: readonly number[], ends: readonly number[], members = 1): LagSample[] {
  return offsets.map((offset, i) => ({
    at: 1_700_000_000_000 + i * INTERVAL,
    offset: BigInt(offset),
    end: BigInt(ends[i]!),
    lag: BigInt(ends[i]! - offset),
    members,
  }));
}

describe('evaluatePartition (Burrow rules over sampled windows)', () => {
  it('given a consumer that keeps up with a growing log, when evaluated, then OK', () => {
    const window = windowOf([10, 20, 30, 40, 50], [15, 24, 33, 42, 51]);
    expect(evaluatePartition(window, SIZE)).toEqual({ status: 'OK', complete: 1 });
  });

  // given a window (committed offsets, log-end offsets, live members), when evaluated, then the status
  it.each<[string, number[], number[], number, PartitionStatus]>([
    ['a consumer that commits but whose lag never decreases', [10, 20, 30, 40, 50], [20, 31, 41, 52, 62], 1, 'WARN'],
    ['equal lags while offsets advance (lag never decreased)', [10, 20, 30, 40, 50], [15, 25, 35, 45, 55], 1, 'WARN'],
    ['no member and an offset unchanged across the window while records arrive', [7, 7, 7, 7, 7], [9, 10, 11, 12, 13], 0, 'STOP'],
    // commits seen at the 2nd and 3rd samples (1 s apart), the last one 2 s ago
    ['no member and commits that ended longer ago than they spanned', [5, 6, 7, 7, 7], [10, 11, 12, 12, 12], 0, 'STOP'],
    // another client committing for the group without joining it is judged by the lag rule
    ['no member but commits as recent as they span, lag growing', [5, 6, 7, 8, 9], [10, 12, 14, 16, 18], 0, 'WARN'],
    ['no member but commits as recent as they span, lag shrinking once', [5, 6, 7, 8, 9], [10, 10, 11, 11, 12], 0, 'OK'],
    ['a live member and an offset unchanged across the window while lag > 0', [7, 7, 7, 7, 7], [9, 9, 9, 9, 9], 1, 'STALL'],
    ['a live member whose offset stood still for part of the window, lag growing', [5, 7, 7, 7, 7], [7, 9, 10, 11, 12], 1, 'WARN'],
    ['a live member whose offset stood still for part of the window, lag shrinking once', [5, 7, 7, 7, 7], [12, 10, 10, 10, 10], 1, 'OK'],
    ['a committed offset lower than the one before it', [10, 20, 5, 15, 25], [30, 31, 32, 33, 34], 1, 'REWIND'],
    ['REWIND, STOP and STALL conditions at once (the worst wins)', [10, 10, 9, 9, 9], [20, 21, 22, 23, 24], 0, 'REWIND'],
    ['lag 0 now, whatever came before', [10, 10, 5, 5, 30], [20, 21, 22, 23, 30], 0, 'OK'],
    ['lag 0 in any sample of the window (Burrow rule 1)', [7, 7, 7, 7, 7], [7, 8, 9, 10, 11], 0, 'OK'],
  ])('given %s, when evaluated, then %s', (_given, offsets, ends, members, expected) => {
    expect(evaluatePartition(windowOf(offsets, ends, members), SIZE).status).toBe(expected);
  });

  it('given a retry lane holding its offset for less than its wait, when evaluated, then not STALL or STOP until the wait has passed', () => {
    const waiting = windowOf([7, 7, 7, 7, 7], [9, 9, 9, 9, 9]).map((s) => ({ ...s, changedAt: s.at - 4 * INTERVAL - 500 }));
    expect(evaluatePartition(waiting, SIZE, 10 * INTERVAL).status).toBe('WARN');
    expect(evaluatePartition(waiting, SIZE, 2 * INTERVAL).status).toBe('STALL');
    expect(evaluatePartition(waiting.map((s) => ({ ...s, members: 0 })), SIZE, 10 * INTERVAL).status).toBe('WARN');
    expect(evaluatePartition(waiting.map((s) => ({ ...s, members: 0 })), SIZE, 2 * INTERVAL).status).toBe('STOP');
  });

  it('given a rewind in a window not yet full, when evaluated, then REWIND (seen directly)', () => {
    const window = windowOf([10, 4], [30, 31]);
    expect(evaluatePartition(window, SIZE)).toEqual({ status: 'REWIND', complete: 0.4 });
  });

  it('given a window not yet full, when evaluated, then OK and how complete it is', () => {
    const window = windowOf([7, 7, 7], [9, 10, 11], 0);
    expect(evaluatePartition(window, SIZE)).toEqual({ status: 'OK', complete: 0.6 });
  });

  it('given no samples, when evaluated, then OK and complete 0', () => {
    expect(evaluatePartition([], SIZE)).toEqual({ status: 'OK', complete: 0 });
  });

  it('given a window longer than its size (a size lowered), when evaluated, then complete is 1', () => {
    expect(evaluatePartition(windowOf([1, 2, 3, 4, 5, 6], [2, 3, 4, 5, 6, 7]), SIZE).complete).toBe(1);
  });
});

describe('evaluateGroup', () => {
  it('given only OK partitions, when evaluated, then OK; none, then OK', () => {
    expect(evaluateGroup(['OK', 'OK'])).toBe('OK');
    expect(evaluateGroup([])).toBe('OK');
  });

  it('given a WARN partition among OK ones, when evaluated, then WARN', () => {
    expect(evaluateGroup(['OK', 'WARN', 'OK'])).toBe('WARN');
  });

  it.each(['STOP', 'STALL', 'REWIND'] as const)('given a %s partition, when evaluated, then ERR', (status) => {
    expect(evaluateGroup(['WARN', status, 'OK'])).toBe('ERR');
  });

  it('orders statuses as Burrow does: OK < WARN < STOP < STALL < REWIND', () => {
    expect(worse('WARN', 'OK')).toBe('WARN');
    expect(worse('STOP', 'STALL')).toBe('STALL');
    expect(worse('REWIND', 'STOP')).toBe('REWIND');
  });
});

describe('tierWaits', () => {
  it('given the retry schedules, when asked, then each tier topic may wait twice its delay, or until the next tier when that is longer', () => {
    const waits = tierWaits('p.', { deliveryWebhookRetry: [1_000, 2_000, 2_000, 60_000], deliveryEmailRetry: [4_000] });
    expect(Object.fromEntries(waits)).toEqual({
      'p.notification.delivery.webhook.retry.1s': 2_000,
      'p.notification.delivery.webhook.retry.2s': 60_000,
      'p.notification.delivery.webhook.retry.1m': 120_000,
      'p.notification.delivery.email.retry.4s': 8_000,
    });
  });
});

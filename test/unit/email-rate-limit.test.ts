import { describe, expect, it } from 'vitest';
import { createRateLimiter, EMAIL_RATE_DEFAULTS, type Schedule } from '../../src/channels/email/rate-limit.ts';

const DAY = 86_400_000;
const START = Date.UTC(2025, 11, 23, 10, 0, 0);

/** A clock and timers that move only when told. */
function fakeTime(now = START) {
  const timers = new Set<{ at: number; fn: () => void }>();
  const schedule: Schedule = (fn, ms) => {
    const timer = { at: now + ms, fn };
    timers.add(timer);
    return () => timers.delete(timer);
  };
  return {
    clock: () => now,
    schedule,
    /** Moves the clock `ms` on, running each timer due on the way at its time, and lets promises settle. */
    async advance(ms: number) {
      const until = now + ms;
      for (;;) {
        const next = [...timers].filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
        if (!next) break;
        timers.delete(next);
        now = next.at;
        next.fn();
        await settle();
      }
      now = until;
      await settle();
    },
  };
}
const settle = async () => { for (let i = 0; i < 10; i++) await Promise.resolve(); };

/** Starts acquire and records when (fake ms) and how it settled. */
function track(promise: Promise<boolean>, time: { clock(): number }) {
  const t: { admitted?: boolean; at?: number } = {};
  void promise.then((admitted) => { t.admitted = admitted; t.at = time.clock(); });
  return t;
}

describe('e-mail rate limiter', () => {
  it('defaults to the seed\'s 10 per second and 10,000 per day', () => {
    expect(EMAIL_RATE_DEFAULTS).toEqual({ perSecond: 10, perDay: 10_000 });
  });

  it('admits 10 at once, holds the 11th until the first leaves the last 1,000 ms, and never more than 10 in any second', async () => {
    const time = fakeTime();
    const limiter = createRateLimiter({ perSecond: 10, perDay: 0, ...time });
    const admittedAt: number[] = [];
    const waits = Array.from({ length: 35 }, () => limiter.acquire('bulk', Infinity).then(() => admittedAt.push(time.clock())));
    await settle();
    expect(admittedAt).toHaveLength(10);
    expect(limiter.usage()).toMatchObject({ second: { used: 10, limit: 10 }, waiting: { high: 0, bulk: 25 } });
    await time.advance(999);
    expect(admittedAt).toHaveLength(10);
    await time.advance(1);
    expect(admittedAt).toHaveLength(20);
    await time.advance(2_000);
    await Promise.all(waits);
    expect(admittedAt).toHaveLength(35);
    for (const at of admittedAt) expect(admittedAt.filter((t) => t >= at && t < at + 1_000).length).toBeLessThanOrEqual(10);
    expect(admittedAt.at(-1)).toBe(START + 3_000);
  });

  it('serves every waiting high request before any waiting bulk one, each lane in arrival order', async () => {
    const time = fakeTime();
    const limiter = createRateLimiter({ perSecond: 1, perDay: 0, ...time });
    const order: string[] = [];
    const ask = (priority: 'high' | 'bulk', name: string) => limiter.acquire(priority, Infinity).then(() => order.push(name));
    await ask('bulk', 'b0');
    const pending = [ask('bulk', 'b1'), ask('bulk', 'b2'), ask('high', 'h1'), ask('bulk', 'b3'), ask('high', 'h2')];
    await time.advance(5_000);
    await Promise.all(pending);
    expect(order).toEqual(['b0', 'h1', 'h2', 'b1', 'b2', 'b3']);
  });

  it('a high request arriving while bulk ones wait goes first even when the slot is already free', async () => {
    const time = fakeTime();
    const limiter = createRateLimiter({ perSecond: 1, perDay: 0, ...time });
    await limiter.acquire('bulk', Infinity);
    const bulk = track(limiter.acquire('bulk', Infinity), time);
    await time.advance(500);
    const high = track(limiter.acquire('high', Infinity), time);
    await time.advance(500);
    expect(high).toEqual({ admitted: true, at: START + 1_000 });
    expect(bulk.admitted).toBeUndefined();
    await time.advance(1_000);
    expect(bulk).toEqual({ admitted: true, at: START + 2_000 });
  });

  it('holds the day limit until the next UTC midnight', async () => {
    const time = fakeTime();
    const limiter = createRateLimiter({ perSecond: 0, perDay: 3, ...time });
    for (let i = 0; i < 3; i++) expect(await limiter.acquire('bulk', Infinity)).toBe(true);
    const fourth = track(limiter.acquire('high', Infinity), time);
    const midnight = Math.ceil(START / DAY) * DAY;
    expect(limiter.usage().day).toEqual({ used: 3, limit: 3, resetsAt: midnight });
    await time.advance(midnight - START - 1);
    expect(fourth.admitted).toBeUndefined();
    await time.advance(1);
    expect(fourth).toEqual({ admitted: true, at: midnight });
    expect(limiter.usage().day).toEqual({ used: 1, limit: 3, resetsAt: midnight + DAY });
  });

  it('answers false at the deadline, at once when no room can come before it, and drops nobody else', async () => {
    const time = fakeTime();
    const limiter = createRateLimiter({ perSecond: 1, perDay: 2, ...time });
    await limiter.acquire('bulk', Infinity);
    const late = track(limiter.acquire('bulk', START + 300), time);
    const patient = track(limiter.acquire('bulk', Infinity), time);
    await time.advance(300);
    expect(late).toEqual({ admitted: false, at: START + 300 });
    expect(patient.admitted).toBeUndefined();
    await time.advance(700);
    expect(patient).toEqual({ admitted: true, at: START + 1_000 });
    // The day's 2 are used: a request with a deadline before midnight is answered at once.
    expect(await limiter.acquire('high', START + 60_000)).toBe(false);
  });

  it('with both limits 0 admits everything at once', async () => {
    const limiter = createRateLimiter({ perSecond: 0, perDay: 0, ...fakeTime() });
    const all = await Promise.all(Array.from({ length: 1_000 }, () => limiter.acquire('bulk', 0)));
    expect(all.every(Boolean)).toBe(true);
  });

  it('close answers every waiter false', async () => {
    const time = fakeTime();
    const limiter = createRateLimiter({ perSecond: 1, perDay: 0, ...time });
    await limiter.acquire('bulk', Infinity);
    const waiting = limiter.acquire('high', Infinity);
    limiter.close();
    expect(await waiting).toBe(false);
  });

  it('reserve takes what the limits leave now, counted as sent, and nextRoomAt says when more comes', async () => {
    const time = fakeTime();
    const limiter = createRateLimiter({ perSecond: 5, perDay: 0, ...time });
    expect(limiter.reserve('bulk', 3)).toBe(3);
    expect(limiter.reserve('bulk', 10)).toBe(2);
    expect(limiter.reserve('bulk', 1)).toBe(0);
    expect(limiter.usage().second.used).toBe(5);
    expect(limiter.nextRoomAt()).toBe(START + 1_000);
    // A send after the reservations waits for the next second.
    const after = track(limiter.acquire('bulk', Infinity), time);
    await time.advance(999);
    expect(after.admitted).toBeUndefined();
    await time.advance(1);
    expect(after).toEqual({ admitted: true, at: START + 1_000 });
    expect(limiter.reserve('bulk', 10)).toBe(4);
  });

  it('a reservation never takes room that a waiting send of its priority or above is owed', async () => {
    // Timers that never fire: room opens only as the clock moves, and is handed out when someone asks.
    let now = START;
    const limiter = createRateLimiter({ perSecond: 2, perDay: 0, clock: () => now, schedule: () => () => undefined });
    expect(limiter.reserve('bulk', 2)).toBe(2);
    const high = track(limiter.acquire('high', Infinity), { clock: () => now });
    const bulk = track(limiter.acquire('bulk', Infinity), { clock: () => now });
    now = START + 1_000;
    // Two sends of room: the waiting high send first, then the waiting bulk one; nothing is left to reserve.
    expect(limiter.reserve('bulk', 5)).toBe(0);
    await settle();
    expect(high).toEqual({ admitted: true, at: START + 1_000 });
    expect(bulk).toEqual({ admitted: true, at: START + 1_000 });
    now = START + 2_000;
    const bulk2 = track(limiter.acquire('bulk', Infinity), { clock: () => now });
    expect(limiter.reserve('bulk', 5)).toBe(1); // the acquire took one at once, nobody waits
    await settle();
    expect(bulk2.admitted).toBe(true);
  });

  it('reserve with both limits 0 grants all; the day limit holds reservations to midnight', () => {
    const free = createRateLimiter({ perSecond: 0, perDay: 0, ...fakeTime() });
    expect(free.reserve('bulk', 500)).toBe(500);
    const time = fakeTime();
    const daily = createRateLimiter({ perSecond: 0, perDay: 3, ...time });
    expect(daily.reserve('bulk', 5)).toBe(3);
    expect(daily.nextRoomAt()).toBe((Math.floor(START / DAY) + 1) * DAY);
  });
});

/**
 * A transport's send rate: at most `perSecond` sends in any 1,000 ms (a
 * sliding window) and `perDay` in a UTC day (a window that resets at
 * midnight UTC, as provider quotas do); 0 turns a limit off. The Nexora
 * seed's defaults are 10/s and 10,000/day.
 *
 * A send over the limit waits; nothing is dropped. A waiting `high` request
 * (a mandatory or critical e-mail) is always admitted before any waiting
 * `bulk` one, and each lane is first come, first served. A waiter whose
 * deadline passes gets `false` (its caller retries later through the retry
 * tiers); one that cannot be admitted before its deadline gets it at once.
 *
 * A lane that reads many e-mails at once reserves what it may send now
 * (`reserve`), so that its consumption pauses instead of queueing more than
 * the limit lets through: a reservation counts as sent when it is made (an
 * unused one only wastes room, never exceeds a limit), and it never takes
 * room that waiting sends of its own priority or above are owed.
 */
export type SendPriority = 'high' | 'bulk';

export interface RateLimit {
  /** sends in any 1,000 ms; 0 for no limit */
  perSecond: number;
  /** sends per UTC day; 0 for no limit */
  perDay: number;
}

export const EMAIL_RATE_DEFAULTS: Readonly<RateLimit> = Object.freeze({ perSecond: 10, perDay: 10_000 });

/** Runs `fn` after `ms`; returns its cancel. */
export type Schedule = (fn: () => void, ms: number) => () => void;

export interface RateLimiterOptions extends RateLimit {
  /** ms since the epoch */
  clock?: () => number;
  schedule?: Schedule;
}

export interface RateLimitUsage {
  second: { used: number; limit: number };
  /** `resetsAt`: ms, the next UTC midnight */
  day: { used: number; limit: number; resetsAt: number };
  waiting: { high: number; bulk: number };
}

export interface RateLimiter {
  /** Resolves true once a send may go, false if that was not before `deadlineMs` (ms on the clock; Infinity to wait as long as it takes). */
  acquire(priority: SendPriority, deadlineMs: number): Promise<boolean>;
  /** Takes up to `wanted` sends now, as many as the limits leave once the waiting sends of `priority` and above are served; returns how many. */
  reserve(priority: SendPriority, wanted: number): number;
  /** ms on the clock when room for one more send next opens (now if there is room) */
  nextRoomAt(): number;
  usage(): RateLimitUsage;
  /** Answers every waiter false. */
  close(): void;
}

const SECOND = 1_000; // ms
const DAY = 86_400_000; // ms

interface Waiter { done(admitted: boolean): void }

const realSchedule: Schedule = (fn, ms) => {
  const timer = setTimeout(fn, ms);
  timer.unref();
  return () => clearTimeout(timer);
};

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const clock = options.clock ?? Date.now;
  const schedule = options.schedule ?? realSchedule;
  const { perSecond, perDay } = options;
  if (!(perSecond >= 0) || !(perDay >= 0)) throw new RangeError('rate limits are counts, 0 for none');
  const recent: number[] = []; // ms of the sends of the last second, oldest first, at most perSecond
  let day = Math.floor(clock() / DAY);
  let today = 0;
  const lanes: Record<SendPriority, Waiter[]> = { high: [], bulk: [] };
  let cancelWake: (() => void) | undefined;

  /** The first ms, not before `now`, at which one more send is within both limits. */
  const nextFree = (now: number): number => {
    while (recent.length > 0 && recent[0]! <= now - SECOND) recent.shift();
    if (Math.floor(now / DAY) !== day) {
      day = Math.floor(now / DAY);
      today = 0;
    }
    let at = now;
    if (perDay > 0 && today >= perDay) at = (day + 1) * DAY;
    if (perSecond > 0 && recent.length >= perSecond) at = Math.max(at, recent[recent.length - perSecond]! + SECOND);
    return at;
  };
  const take = (now: number) => {
    today += 1;
    if (perSecond > 0) {
      recent.push(now);
      if (recent.length > perSecond) recent.shift();
    }
  };
  const remove = (waiter: Waiter) => {
    for (const lane of Object.values(lanes)) {
      const i = lane.indexOf(waiter);
      if (i >= 0) lane.splice(i, 1);
    }
  };

  /** Admits waiters while there is room, high first; then sleeps until the next room. */
  const pump = () => {
    cancelWake?.();
    cancelWake = undefined;
    const now = clock();
    while (lanes.high.length + lanes.bulk.length > 0 && nextFree(now) <= now) {
      const waiter = (lanes.high.length > 0 ? lanes.high : lanes.bulk).shift()!;
      take(now);
      waiter.done(true);
    }
    if (lanes.high.length + lanes.bulk.length > 0) cancelWake = schedule(pump, Math.max(1, nextFree(now) - now));
  };

  return {
    acquire(priority, deadlineMs) {
      const now = clock();
      const queued = lanes.high.length + (priority === 'bulk' ? lanes.bulk.length : 0);
      const free = nextFree(now);
      if (queued === 0 && free <= now) {
        take(now);
        return Promise.resolve(true);
      }
      if (free > deadlineMs) return Promise.resolve(false);
      return new Promise<boolean>((resolve) => {
        let cancelDeadline: (() => void) | undefined;
        const waiter: Waiter = {
          done: (admitted) => {
            cancelDeadline?.();
            resolve(admitted);
          },
        };
        if (Number.isFinite(deadlineMs)) cancelDeadline = schedule(() => { remove(waiter); resolve(false); }, Math.max(0, deadlineMs - now));
        lanes[priority].push(waiter);
        pump();
      });
    },
    reserve(priority, wanted) {
      pump(); // whoever already waits is served first
      if (lanes.high.length + (priority === 'bulk' ? lanes.bulk.length : 0) > 0) return 0;
      const now = clock();
      let granted = 0;
      while (granted < wanted && nextFree(now) <= now) {
        take(now);
        granted += 1;
      }
      return granted;
    },
    nextRoomAt() {
      return nextFree(clock());
    },
    usage() {
      const now = clock();
      nextFree(now);
      return {
        second: { used: recent.filter((t) => t > now - SECOND).length, limit: perSecond },
        day: { used: today, limit: perDay, resetsAt: (day + 1) * DAY },
        waiting: { high: lanes.high.length, bulk: lanes.bulk.length },
      };
    },
    close() {
      cancelWake?.();
      cancelWake = undefined;
      for (const lane of Object.values(lanes)) for (const waiter of lane.splice(0)) waiter.done(false);
    },
  };
}

/** A per-user limit on calls of one route, in this process's memory. */

/**
 * At most `max` calls per user within any `windowMs` (ms), in this process's
 * memory: a sliding window of each user's call times.
 */
export function createLimiter({ max, windowMs }: { max: number; windowMs: number }, clock: () => number) {
  const calls = new Map<string, number[]>();
  return {
    /** Counts a call; returns ms until the user may call again when over the limit, else undefined. */
    take(userId: string): number | undefined {
      const now = clock();
      if (calls.size > 10_000) for (const [user, times] of calls) if (times.every((t) => t <= now - windowMs)) calls.delete(user);
      const recent = (calls.get(userId) ?? []).filter((t) => t > now - windowMs);
      if (recent.length >= max) {
        calls.set(userId, recent);
        return recent[0]! + windowMs - now;
      }
      calls.set(userId, [...recent, now]);
      return undefined;
    },
  };
}

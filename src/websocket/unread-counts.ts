/**
 * `unread_count` frames: whenever a user's unread count may have changed (a
 * notification reached the inbox, a read, read-all or archive was recorded,
 * from any tab or the REST API), every socket of the user on this gateway
 * gets the new count.
 *
 * The count is the inbox read model's, so it is read once the projector has
 * applied the record that changed it: for each partition the gateway noted a
 * change on, it waits until the projector's stored offset in Postgres
 * (consumer_offsets) has passed the gateway's position there (at most
 * `waitMs`; then it counts anyway), then counts for the users with sockets
 * here, in one query. This runs beside the gateway's batches, never in them:
 * notification frames are not held back, and changes noted meanwhile are
 * counted in the next round for that partition.
 */
import { unreadCounts as countUnread } from '../db/notifications.ts';
import { projectorReached, type ProjectorWait } from './projector-wait.ts';
import type { Logger } from '../logger.ts';
import type { Connections } from './connections.ts';

/** `waitMs`: how long to wait for the projector before counting anyway. */
export interface UnreadCountOptions extends ProjectorWait {
  connections: Pick<Connections, 'has' | 'send'>;
  log: Logger;
}

export interface UnreadCounts {
  /** Users whose count may have changed with the records of `topic`'s `partition` before `nextOffset`. */
  changed(topic: string, partition: number, nextOffset: string, userIds: Iterable<string>): void;
  /** Sends the user's count to the socket (on connect). */
  greet(userId: string, send: (count: number) => void): void;
  close(): void;
}

interface Pending { target: bigint; users: Set<string>; running: boolean }

export function createUnreadCounts(options: UnreadCountOptions): UnreadCounts {
  const pending = new Map<string, Pending & { topic: string; partition: number }>();
  let closed = false;


  const drain = async (key: string) => {
    const p = pending.get(key)!;
    p.running = true;
    try {
      while (!closed && p.users.size > 0) {
        const users = [...p.users].filter((u) => options.connections.has(u));
        p.users.clear();
        if (users.length === 0) continue;
        await projectorReached(options, p.topic, p.partition, p.target, () => closed); // late or not, the count is sent
        for (const [userId, count] of await countUnread(options.pool, users)) options.connections.send(userId, { type: 'unread_count', count });
      }
    } catch (err) {
      options.log.warn({ err, topic: p.topic, partition: p.partition }, 'unread counts not sent');
    } finally {
      p.running = false;
    }
  };

  return {
    changed(topic, partition, nextOffset, userIds) {
      if (closed) return;
      const key = `${topic}:${partition}`;
      let p = pending.get(key);
      if (!p) {
        p = { topic, partition, target: 0n, users: new Set(), running: false };
        pending.set(key, p);
      }
      const next = BigInt(nextOffset);
      if (next > p.target) p.target = next;
      for (const user of userIds) p.users.add(user);
      if (!p.running) void drain(key);
    },
    greet(userId, send) {
      countUnread(options.pool, [userId]).then((counts) => send(counts.get(userId) ?? 0), (err: unknown) => options.log.warn({ err }, 'unread count not sent'));
    },
    close() {
      closed = true;
    },
  };
}

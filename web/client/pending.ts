/**
 * Inbox commands waiting for their answer: the server answers each with a
 * `mark_read` frame (action, notification_id) or an `error` frame (command,
 * notification_id), in the order they were sent for the same command and id.
 */
import type { ErrorFrame, InboxCommand, MarkReadFrame } from '../../src/websocket/protocol.ts';

export interface Pending {
  /** a promise for the answer to `command` on `id` (null for mark_all_read) */
  add(command: InboxCommand, id: string | null): Promise<MarkReadFrame>;
  /** settles the oldest matching command; false when none waited for this frame */
  settle(frame: MarkReadFrame | ErrorFrame): boolean;
  /** rejects every waiting command, e.g. when the socket closed before they were answered */
  rejectAll(reason: Error): void;
  readonly size: number;
}

interface Waiter {
  resolve(frame: MarkReadFrame): void;
  reject(err: Error): void;
}

/** The error a command's promise is rejected with when the server answered with an `error` frame. */
export class CommandError extends Error {
  constructor(readonly frame: ErrorFrame) {
    super(frame.error);
    this.name = 'CommandError';
  }
}

export function createPending(): Pending {
  const waiting = new Map<string, Waiter[]>();
  const key = (command: string, id: string | null | undefined) => `${command}\u0000${id ?? ''}`;
  const take = (k: string): Waiter | undefined => {
    const queue = waiting.get(k);
    const first = queue?.shift();
    if (queue && queue.length === 0) waiting.delete(k);
    return first;
  };
  return {
    add(command, id) {
      return new Promise<MarkReadFrame>((resolve, reject) => {
        const k = key(command, id);
        waiting.set(k, [...(waiting.get(k) ?? []), { resolve, reject }]);
      });
    },
    settle(frame) {
      if (frame.type === 'mark_read') {
        const waiter = take(key(frame.action, frame.notification_id));
        waiter?.resolve(frame);
        return waiter !== undefined;
      }
      if (frame.command === undefined || frame.command === 'ping') return false;
      const waiter = take(key(frame.command, frame.notification_id));
      waiter?.reject(new CommandError(frame));
      return waiter !== undefined;
    },
    rejectAll(reason) {
      const all = [...waiting.values()].flat();
      waiting.clear();
      for (const w of all) w.reject(reason);
    },
    get size() { return [...waiting.values()].reduce((n, q) => n + q.length, 0); },
  };
}

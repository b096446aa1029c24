/**
 * The sockets this gateway holds, by user and by the roles of their tokens.
 * Several tabs per user, up to a cap; a client that does not read its frames
 * is dropped before its buffer grows. While a socket resumes, its live
 * notification frames are held back, so that they follow the missed ones.
 */
import type { WebSocket } from 'ws';
import type { Metrics } from '../metrics.ts';
import { TOO_MANY_CONNECTIONS, type ServerFrame } from './protocol.ts';

/** Live notification frames of a resuming socket, kept until it has had what it missed. */
interface Held {
  frames: { offset: bigint; text: string }[];
  limit: number;
  /** the highest offset held, also of frames dropped past the limit */
  last: bigint | undefined;
  overflowed: boolean;
}

export interface ConnectionLimits {
  /** sockets per user (TIDINGS_WS_MAX_CONNECTIONS_PER_USER); the oldest is closed with 4008 when a new one would exceed it */
  perUser: number;
  /** bytes queued on one socket before it counts as too slow and is dropped (TIDINGS_WS_MAX_BUFFERED_BYTES) */
  maxBufferedBytes: number;
}

export interface Connections {
  /** `roles`: those of the socket's token, for sendToRole. */
  add(userId: string, socket: WebSocket, roles?: readonly string[]): void;
  remove(userId: string, socket: WebSocket): void;
  /** Sends a frame to every socket of the user; returns how many got it. */
  send(userId: string, frame: ServerFrame): number;
  /** Sends a frame once to every socket whose token holds `role`, whoever its user; returns how many got it. */
  sendToRole(role: string, frame: ServerFrame): number;
  count(): { sockets: number; users: number };
  /** Whether the user has a socket here. */
  has(userId: string): boolean;
  /** Open sockets per user, most first. */
  perUser(): { user_id: string; sockets: number }[];
  /** Closes every socket with `code` (GOING_AWAY on shutdown). */
  closeAll(code: number, reason: string): void;
  /** From now on, keeps the socket's notification frames instead of sending them: at most `limit`, then none (overflowed). */
  hold(socket: WebSocket, limit: number): void;
  /** What the socket's hold has come to: whether it overflowed, and the highest offset it saw. */
  held(socket: WebSocket): { overflowed: boolean; last: bigint | undefined };
  /** Ends the hold: sends the kept frames at offsets after `after`, in order. */
  release(userId: string, socket: WebSocket, after: bigint): void;
}

/** `metrics`: where open sockets, sockets opened, frames sent and slow clients dropped are counted; nothing without. */
export function createConnections(limits: ConnectionLimits, metrics?: Metrics): Connections {
  // An array per user, oldest first: most users hold one socket, and a Set of one costs ~150 bytes more.
  const byUser = new Map<string, WebSocket[]>();
  // Only sockets whose token has roles are listed here, so role-less sockets cost nothing more.
  const byRole = new Map<string, Map<WebSocket, string>>(); // role → socket → its user
  const holds = new Map<WebSocket, Held>();
  let sockets = 0;
  const counted = metrics?.websocket;
  counted?.connections.set(0);

  const remove = (userId: string, socket: WebSocket) => {
    const list = byUser.get(userId);
    const at = list?.indexOf(socket) ?? -1;
    if (list && at >= 0) {
      list.splice(at, 1);
      sockets -= 1;
      counted?.connections.set(sockets);
      if (list.length === 0) byUser.delete(userId);
      holds.delete(socket);
      for (const [role, members] of byRole) if (members.delete(socket) && members.size === 0) byRole.delete(role);
    }
  };

  /** Writes `text` to `socket` unless it is too slow (then it is dropped) or closed; true when written. */
  const write = (userId: string, socket: WebSocket, text: string): boolean => {
    if (socket.bufferedAmount > limits.maxBufferedBytes) {
      remove(userId, socket);
      socket.terminate();
      counted?.slowClientCloses.inc();
      return false;
    }
    if (socket.readyState !== socket.OPEN) return false;
    socket.send(text);
    return true;
  };

  return {
    add(userId, socket, roles = []) {
      const held = byUser.get(userId);
      if (held && held.length >= limits.perUser) {
        const oldest = held[0]!;
        remove(userId, oldest);
        oldest.close(TOO_MANY_CONNECTIONS, 'too many connections for this user');
      }
      const list = byUser.get(userId); // again: remove() drops the user's entry once it is empty (perUser 1)
      if (list) list.push(socket);
      else byUser.set(userId, [socket]); // not [] and a push, which reserves 17 slots
      for (const role of new Set(roles)) {
        let members = byRole.get(role);
        if (!members) byRole.set(role, members = new Map());
        members.set(socket, userId);
      }
      sockets += 1;
      counted?.connections.set(sockets);
      counted?.opened.inc();
    },
    remove,
    send(userId, frame) {
      const list = byUser.get(userId);
      if (!list) return 0;
      const text = JSON.stringify(frame);
      let sent = 0;
      for (const socket of [...list]) {
        const hold = frame.type === 'notification' && holds.size > 0 ? holds.get(socket) : undefined;
        if (hold && frame.type === 'notification') keep(hold, BigInt(frame.position.offset), text);
        else if (write(userId, socket, text)) sent += 1;
      }
      if (sent > 0) counted?.framesSent.inc({ type: frame.type }, sent);
      return sent;
    },
    sendToRole(role, frame) {
      const members = byRole.get(role);
      if (!members) return 0;
      const text = JSON.stringify(frame);
      let sent = 0;
      for (const [socket, userId] of [...members]) if (write(userId, socket, text)) sent += 1;
      if (sent > 0) counted?.framesSent.inc({ type: frame.type }, sent);
      return sent;
    },
    count: () => ({ sockets, users: byUser.size }),
    has: (userId) => byUser.has(userId),
    perUser: () => [...byUser].map(([userId, list]) => ({ user_id: userId, sockets: list.length })).sort((a, b) => b.sockets - a.sockets || a.user_id.localeCompare(b.user_id)),
    closeAll(code, reason) {
      for (const list of byUser.values()) for (const socket of list) socket.close(code, reason);
      byUser.clear();
      byRole.clear();
      holds.clear();
      sockets = 0;
      counted?.connections.set(0);
    },
    hold(socket, limit) {
      holds.set(socket, { frames: [], limit, last: undefined, overflowed: false });
    },
    held(socket) {
      const hold = holds.get(socket);
      return { overflowed: hold?.overflowed ?? false, last: hold?.last };
    },
    release(userId, socket, after) {
      const hold = holds.get(socket);
      if (!hold) return;
      holds.delete(socket);
      let sent = 0;
      for (const frame of hold.frames) if (frame.offset > after && write(userId, socket, frame.text)) sent += 1;
      if (sent > 0) counted?.framesSent.inc({ type: 'notification' }, sent);
    },
  };
}

function keep(hold: Held, offset: bigint, text: string): void {
  if (hold.last === undefined || offset > hold.last) hold.last = offset;
  if (hold.overflowed) return;
  if (hold.frames.length >= hold.limit) {
    hold.overflowed = true;
    hold.frames = [];
    return;
  }
  hold.frames.push({ offset, text });
}

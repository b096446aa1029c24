/**
 * The sockets this gateway holds, by user and by the roles of their tokens.
 * Several tabs per user, up to a cap; a client that does not read its frames
 * is dropped before its buffer grows.
 */
import type { WebSocket } from 'ws';
import type { Metrics } from '../metrics.ts';
import { TOO_MANY_CONNECTIONS, type ServerFrame } from './protocol.ts';

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
}

/** `metrics`: where open sockets, sockets opened, frames sent and slow clients dropped are counted; nothing without. */
export function createConnections(limits: ConnectionLimits, metrics?: Metrics): Connections {
  const byUser = new Map<string, Set<WebSocket>>();
  // Only sockets whose token has roles are listed here, so role-less sockets cost nothing more.
  const byRole = new Map<string, Map<WebSocket, string>>(); // role → socket → its user
  let sockets = 0;
  const counted = metrics?.websocket;
  counted?.connections.set(0);

  const remove = (userId: string, socket: WebSocket) => {
    const set = byUser.get(userId);
    if (set?.delete(socket)) {
      sockets -= 1;
      counted?.connections.set(sockets);
      if (set.size === 0) byUser.delete(userId);
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
      let set = byUser.get(userId);
      if (!set) {
        set = new Set();
        byUser.set(userId, set);
      }
      if (set.size >= limits.perUser) {
        const oldest = set.values().next().value;
        if (oldest) {
          remove(userId, oldest);
          oldest.close(TOO_MANY_CONNECTIONS, 'too many connections for this user');
        }
      }
      set.add(socket);
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
      const set = byUser.get(userId);
      if (!set) return 0;
      const text = JSON.stringify(frame);
      let sent = 0;
      for (const socket of [...set]) if (write(userId, socket, text)) sent += 1;
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
    perUser: () => [...byUser].map(([userId, set]) => ({ user_id: userId, sockets: set.size })).sort((a, b) => b.sockets - a.sockets || a.user_id.localeCompare(b.user_id)),
    closeAll(code, reason) {
      for (const set of byUser.values()) for (const socket of set) socket.close(code, reason);
      byUser.clear();
      byRole.clear();
      sockets = 0;
      counted?.connections.set(0);
    },
  };
}

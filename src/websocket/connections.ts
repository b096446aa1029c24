/**
 * The sockets this gateway holds, by user. Several tabs per user, up to a cap;
 * a client that does not read its frames is dropped before its buffer grows.
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
  add(userId: string, socket: WebSocket): void;
  remove(userId: string, socket: WebSocket): void;
  /** Sends a frame to every socket of the user; returns how many got it. */
  send(userId: string, frame: ServerFrame): number;
  count(): { sockets: number; users: number };
  /** Open sockets per user, most first. */
  perUser(): { user_id: string; sockets: number }[];
  /** Closes every socket with `code` (GOING_AWAY on shutdown). */
  closeAll(code: number, reason: string): void;
}

/** `metrics`: where open sockets, sockets opened, frames sent and slow clients dropped are counted; nothing without. */
export function createConnections(limits: ConnectionLimits, metrics?: Metrics): Connections {
  const byUser = new Map<string, Set<WebSocket>>();
  let sockets = 0;
  const counted = metrics?.websocket;
  counted?.connections.set(0);

  const remove = (userId: string, socket: WebSocket) => {
    const set = byUser.get(userId);
    if (set?.delete(socket)) {
      sockets -= 1;
      counted?.connections.set(sockets);
      if (set.size === 0) byUser.delete(userId);
    }
  };

  return {
    add(userId, socket) {
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
      for (const socket of [...set]) {
        if (socket.bufferedAmount > limits.maxBufferedBytes) {
          remove(userId, socket);
          socket.terminate();
          counted?.slowClientCloses.inc();
          continue;
        }
        if (socket.readyState === socket.OPEN) {
          socket.send(text);
          sent += 1;
        }
      }
      if (sent > 0) counted?.framesSent.inc({ type: frame.type }, sent);
      return sent;
    },
    count: () => ({ sockets, users: byUser.size }),
    perUser: () => [...byUser].map(([userId, set]) => ({ user_id: userId, sockets: set.size })).sort((a, b) => b.sockets - a.sockets || a.user_id.localeCompare(b.user_id)),
    closeAll(code, reason) {
      for (const set of byUser.values()) for (const socket of set) socket.close(code, reason);
      byUser.clear();
      sockets = 0;
      counted?.connections.set(0);
    },
  };
}

/**
 * The WebSocket protocol at /v1/ws: its path, its close codes and every frame
 * the server sends or a client may send (JSON text frames told apart by
 * `type`). Types and constants only, so the gateway processor's decide
 * function may use it as well as the server.
 */
import type { NotificationView, Severity } from '../model/notification.ts';

export const WS_PATH = '/v1/ws';

/** Close code when the server shuts down. */
export const GOING_AWAY = 1001;
/** Close code for the oldest socket of a user who opened one more than the cap allows. */
export const TOO_MANY_CONNECTIONS = 4008;

/** Query parameters of a socket that resumes: the position of the last notification frame its client saw. */
export const RESUME_EPOCH = 'epoch';
export const RESUME_OFFSET = 'offset';

/**
 * A place in a user's notification stream (Centrifugo's stream position):
 * `offset` is that of a notification in the user's partition of
 * notification.inbox, as a decimal string; `epoch` names the stream those
 * offsets belong to and changes when they stop being comparable (another
 * cluster, topic or partition count). Opaque to clients: they keep the last
 * one they saw and give it back on reconnect.
 */
export interface StreamPosition {
  epoch: string;
  offset: string;
}

/** Server → client, first on every socket. */
export interface ConnectionFrame {
  type: 'connection';
  user_id: string;
  /** ISO 8601 */
  server_time: string;
  /** where the user's stream stands: live frames follow it; absent when the socket resumes (its `resumed` or `resync` frame says) */
  position?: StreamPosition;
}

/** Server → client: a notification that entered the user's inbox. */
export interface NotificationFrame {
  type: 'notification';
  notification: NotificationView;
  position: StreamPosition;
}

/** Server → client, to a socket opened with a position: every notification it missed was sent before this, in order. */
export interface ResumedFrame {
  type: 'resumed';
  /** how many notification frames it missed (sent just before this frame) */
  missed: number;
  /** the position after them: live frames follow it */
  position: StreamPosition;
}

/**
 * Server → client, to a socket opened with a position that cannot be resumed
 * (too much missed, another epoch, the inbox not yet up to date): the client
 * reloads the inbox over REST and keeps `position` as its last seen; live
 * frames follow.
 */
export interface ResyncFrame {
  type: 'resync';
  reason: string;
  position: StreamPosition;
}

/** Server → client: the answer to a ping. */
export interface PongFrame {
  type: 'pong';
  /** ISO 8601 */
  server_time: string;
}

/** Server → client: a client frame the server cannot read or carry out. */
export interface ErrorFrame {
  type: 'error';
  error: string;
  /** the type of the client frame this answers, when it had a known one */
  command?: ClientFrame['type'];
  /** the notification the command named, when it named one */
  notification_id?: string;
}

/** The client commands that change the inbox, by the name each has on the socket. */
export type InboxCommand = 'mark_read' | 'mark_all_read' | 'archive';

/**
 * Server → client: the confirmation of a mark_read, mark_all_read or archive
 * (KrakenHashes' `mark_read`), once its event is on notification.reads; the
 * inbox and unread count show it when the projector has applied it.
 */
export interface MarkReadFrame {
  type: 'mark_read';
  action: InboxCommand;
  /** null for mark_all_read */
  notification_id: string | null;
  /** ISO 8601; for mark_all_read, what was received up to this time is read */
  at: string;
}

/** Server → client, to admins' sockets only: a security notification of any user (KrakenHashes' admin alerts). */
export interface SystemAlertFrame {
  type: 'system_alert';
  alert: {
    notification_id: string;
    /** the notification's type, e.g. security_suspicious_login */
    event_type: string;
    severity: Severity;
    title: string;
    message: string;
    /** whom it concerns */
    user_id: string;
    source: { type: string; id: string };
    /** ISO 8601 */
    occurred_at: string;
  };
}

/** Server → client: the user's unread count, on connect and whenever it may have changed. */
export interface UnreadCountFrame {
  type: 'unread_count';
  count: number;
}

export type ServerFrame = ConnectionFrame | NotificationFrame | ResumedFrame | ResyncFrame | PongFrame | ErrorFrame | MarkReadFrame | SystemAlertFrame | UnreadCountFrame;

/** Client → server. */
export interface PingFrame {
  type: 'ping';
}

/** Client → server: one of the user's notifications read. */
export interface MarkReadCommand {
  type: 'mark_read';
  notification_id: string;
}

/** Client → server: everything the user received so far read. */
export interface MarkAllReadCommand {
  type: 'mark_all_read';
}

/** Client → server: one of the user's notifications archived. */
export interface ArchiveCommand {
  type: 'archive';
  notification_id: string;
}

export type ClientFrame = PingFrame | MarkReadCommand | MarkAllReadCommand | ArchiveCommand;

/**
 * The WebSocket protocol at /v1/ws: its path, its close codes and every frame
 * the server sends or a client may send (JSON text frames told apart by
 * `type`). Types and constants only, so the gateway processor's decide
 * function may use it as well as the server.
 */
import type { NotificationView } from '../model/notification.ts';

export const WS_PATH = '/v1/ws';

/** Close code when the server shuts down. */
export const GOING_AWAY = 1001;
/** Close code for the oldest socket of a user who opened one more than the cap allows. */
export const TOO_MANY_CONNECTIONS = 4008;

/** Server → client, first on every socket. */
export interface ConnectionFrame {
  type: 'connection';
  user_id: string;
  /** ISO 8601 */
  server_time: string;
}

/** Server → client: a notification that entered the user's inbox. */
export interface NotificationFrame {
  type: 'notification';
  notification: NotificationView;
}

/** Server → client: the answer to a ping. */
export interface PongFrame {
  type: 'pong';
  /** ISO 8601 */
  server_time: string;
}

/** Server → client: a client frame the server cannot read. */
export interface ErrorFrame {
  type: 'error';
  error: string;
}

export type ServerFrame = ConnectionFrame | NotificationFrame | PongFrame | ErrorFrame;

/** Client → server. */
export interface PingFrame {
  type: 'ping';
}

export type ClientFrame = PingFrame;

/**
 * What a client frame is and what the server answers, without doing it: a
 * reply to send at once (pong, or an error), or an inbox command for the
 * socket's side-effecting part to carry out. Pure: the time comes in.
 */
import { assertNever } from '../assert-never.ts';
import type { ArchiveCommand, ClientFrame, ErrorFrame, MarkAllReadCommand, MarkReadCommand, PongFrame } from './protocol.ts';

/** Characters a client frame may have; every command fits in far fewer (ws itself closes the socket past 64 KiB). */
export const MAX_CLIENT_FRAME = 4_096;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type CommandFrame = MarkReadCommand | MarkAllReadCommand | ArchiveCommand;

export type FrameOutcome =
  | { kind: 'reply'; frame: PongFrame | ErrorFrame }
  | { kind: 'command'; command: CommandFrame };

/** The answer to one client frame (text, or null for a binary frame) at `now` (ms). */
export function handleClientFrame(text: string | null, now: number): FrameOutcome {
  const parsed = parseClientFrame(text);
  if ('error' in parsed) return { kind: 'reply', frame: parsed.error };
  const frame = parsed.frame;
  switch (frame.type) {
    case 'ping':
      return { kind: 'reply', frame: { type: 'pong', server_time: new Date(now).toISOString() } };
    case 'mark_read':
    case 'mark_all_read':
    case 'archive':
      return { kind: 'command', command: frame };
    default:
      return assertNever(frame);
  }
}

/** A client frame checked field by field; an error frame says the first thing wrong. */
export function parseClientFrame(text: string | null): { frame: ClientFrame } | { error: ErrorFrame } {
  const error = (reason: string, command?: ClientFrame['type']) => ({ error: { type: 'error' as const, error: reason, ...(command ? { command } : {}) } });
  if (text === null) return error('binary frames are not supported');
  if (text.length > MAX_CLIENT_FRAME) return error(`frames may have at most ${MAX_CLIENT_FRAME} characters`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return error('frames must be JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return error('frames must be JSON objects');
  const input = value as Record<string, unknown>;
  const type = Object.hasOwn(input, 'type') ? input.type : undefined;
  switch (type) {
    case 'ping':
    case 'mark_all_read':
      return { frame: { type } };
    case 'mark_read':
    case 'archive': {
      const id = Object.hasOwn(input, 'notification_id') ? input.notification_id : undefined;
      if (typeof id !== 'string' || !UUID.test(id)) return error('notification_id must be a notification id (a UUID)', type);
      return { frame: { type, notification_id: id.toLowerCase() } };
    }
    default:
      return error(`unknown frame type ${typeof type === 'string' ? JSON.stringify(type.slice(0, 100)) : typeof type}`);
  }
}

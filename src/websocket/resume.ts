/**
 * Resume (Centrifugo's recovery by epoch and offset): a socket opened with the
 * position of the last notification frame its client saw gets what it missed
 * since, in order and once, then the live frames.
 *
 * A user's notifications are all in one partition of notification.inbox, so
 * a position is an offset there; the epoch says which offsets (src/websocket/
 * streams.ts). While the socket resumes, its live notification frames are
 * held (connections.hold). Let P be this gateway's next offset on the
 * partition when the missed ones are read: everything before P has been
 * pushed, everything from P on is live. Once the projector has stored an
 * offset at or past P, the inbox read model holds every notification before
 * P; the socket gets those after its offset (not archived), then the held
 * frames from P on. A resume it cannot serve (another epoch, more missed than
 * the limit, the projector not there in time, more live frames than the limit
 * meanwhile) ends in `resync`: the client reloads its inbox page.
 */
import type { Logger } from '../logger.ts';
import { notificationsBetween } from '../db/notifications.ts';
import { notificationView } from '../api/inbox.ts';
import { projectorReached, type ProjectorWait } from './projector-wait.ts';
import type { InboxStreams } from './streams.ts';
import type { NotificationFrame, StreamPosition } from './protocol.ts';

/** `waitMs`: how long to wait for the projector before answering resync. */
export interface ResumeOptions extends ProjectorWait {
  streams: InboxStreams;
  /** notification.inbox's name */
  topic: string;
  /** notifications missed at most; more are a resync (TIDINGS_WS_RESUME_LIMIT) */
  limit: number;
  log: Logger;
}

/** Either way, the held live frames at offsets after `position.offset` follow. */
export type ResumeOutcome =
  | { kind: 'resumed'; frames: NotificationFrame[]; position: StreamPosition }
  | { kind: 'resync'; reason: string; position: StreamPosition };

export interface Resumer {
  /**
   * What a socket of the user that asks to resume after `from` missed.
   * `heldFrom`: the gateway's next offset on the user's partition when the
   * socket's hold began; `stopped`: the socket is gone, stop waiting.
   */
  resume(userId: string, from: StreamPosition, heldFrom: bigint, stopped: () => boolean): Promise<ResumeOutcome>;
}

export function createResumer(options: ResumeOptions): Resumer {
  const { streams } = options;
  return {
    async resume(userId, from, heldFrom, stopped) {
      const partition = streams.partitionOf(userId);
      const epoch = streams.epoch(partition);
      // As if the socket had connected afresh when its hold began: every held frame follows, the client reloads its inbox.
      const resync = (reason: string): ResumeOutcome => ({ kind: 'resync', reason, position: { epoch, offset: String(heldFrom - 1n) } });
      if (from.epoch !== epoch) return resync('the position is of another epoch (the inbox topic, its partitions or the cluster changed)');
      const after = BigInt(from.offset);
      const next = streams.next(partition);
      if (after >= next - 1n) return { kind: 'resumed', frames: [], position: from };
      try {
        if (!(await projectorReached(options, options.topic, partition, next, stopped))) return resync('the inbox is not up to date yet');
        const rows = await notificationsBetween(options.pool, userId, { partition, after, before: next }, options.limit + 1);
        if (rows.length > options.limit) return resync(`more than ${options.limit} notifications were missed`);
        const frames = rows.map((row): NotificationFrame => ({ type: 'notification', notification: notificationView(row), position: { epoch, offset: row.kafka_offset } }));
        return { kind: 'resumed', frames, position: { epoch, offset: String(next - 1n) } };
      } catch (err) {
        options.log.warn({ err }, 'missed notifications not read');
        return resync('the missed notifications could not be read');
      }
    },
  };
}

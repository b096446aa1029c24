/**
 * Where a client stands in the user's notification stream, and which
 * notification frames it has already shown: the pure part of resume. The
 * server promises no duplicates; the client drops them anyway, by id and by
 * offset, so a bug or a race on either side never shows a notification twice.
 */
import type { StreamPosition } from '../../src/websocket/protocol.ts';
import { RESUME_EPOCH, RESUME_OFFSET } from '../../src/websocket/protocol.ts';

/** Ids remembered for dropping duplicates; older ones are forgotten (offsets still catch those). */
const SEEN_IDS = 1_000;

export interface StreamTracker {
  /** the last position seen, undefined before any */
  readonly position: StreamPosition | undefined;
  /** how many notification frames were dropped as duplicates */
  readonly dropped: number;
  /** true when a notification frame is new (and then its position is the last seen); false for a duplicate */
  accept(id: string, position: StreamPosition | undefined): boolean;
  /** adopt a position the server gave without a notification (connection, resync) */
  adopt(position: StreamPosition): void;
}

export function createStreamTracker(start?: StreamPosition): StreamTracker {
  let position = start && { ...start };
  let dropped = 0;
  const seen = new Set<string>();
  return {
    get position() { return position; },
    get dropped() { return dropped; },
    accept(id, at) {
      if (seen.has(id) || (at && position && !isAfter(at, position))) {
        dropped++;
        return false;
      }
      seen.add(id);
      if (seen.size > SEEN_IDS) seen.delete(seen.values().next().value as string);
      if (at) position = { ...at };
      return true;
    },
    adopt(at) { position = { ...at }; },
  };
}

/**
 * True unless `a` is at or before `b` in the same epoch. Another epoch's
 * offsets cannot be compared: such a frame counts as new.
 */
export function isAfter(a: StreamPosition, b: StreamPosition): boolean {
  if (a.epoch !== b.epoch) return true;
  const [x, y] = [toBigInt(a.offset), toBigInt(b.offset)];
  return x === undefined || y === undefined || x > y;
}

function toBigInt(offset: string): bigint | undefined {
  return /^-?\d+$/.test(offset) ? BigInt(offset) : undefined;
}

/** The socket URL of one (re)connect: `token`, and `epoch` and `offset` when resuming from `position`. */
export function socketUrl(base: string, token: string, position?: StreamPosition): string {
  const url = new URL(base);
  url.searchParams.set('token', token);
  url.searchParams.delete(RESUME_EPOCH);
  url.searchParams.delete(RESUME_OFFSET);
  if (position) {
    url.searchParams.set(RESUME_EPOCH, position.epoch);
    url.searchParams.set(RESUME_OFFSET, position.offset);
  }
  return url.toString();
}

/** The http(s) origin of a ws(s) URL, where the REST API of the same Tidings answers. */
export function httpOrigin(wsUrl: string): string {
  const url = new URL(wsUrl);
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new TypeError(`not a ws: or wss: URL: ${wsUrl}`);
  return `${url.protocol === 'wss:' ? 'https:' : 'http:'}//${url.host}`;
}

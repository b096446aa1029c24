/**
 * The browser (and Node 20) client of Tidings' WebSocket at /v1/ws: connects
 * with a fresh token each time, reconnects with full-jitter backoff, resumes
 * from the last position it saw, drops duplicate notification frames, keeps
 * the unread count, and answers inbox commands as promises. No runtime
 * dependencies; Node 20 has no global WebSocket, so pass one (the ws package's).
 */
import type {
  ConnectionFrame, ErrorFrame, InboxCommand, MarkReadFrame, NotificationFrame, ServerFrame, StreamPosition, SystemAlertFrame,
} from '../src/websocket/protocol.ts';
import { TOO_MANY_CONNECTIONS } from '../src/websocket/protocol.ts';
import type { NotificationView } from '../src/model/notification.ts';
import { createBackoff, DEFAULT_BACKOFF, type BackoffOptions } from './client/backoff.ts';
import { createPending } from './client/pending.ts';
import { createStreamTracker, httpOrigin, socketUrl } from './client/stream.ts';

export type { StreamPosition, NotificationView, MarkReadFrame, ErrorFrame };
export { CommandError } from './client/pending.ts';

/** What the client needs of a WebSocket: the browser's, or the ws package's on Node. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  // Handlers are only assigned, never called here: `never` lets both the DOM's and ws's event types fit.
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

export type ClientStatus = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface TidingsClientOptions {
  /** ws(s)://host/v1/ws */
  url: string;
  /** the JWT, or a function giving a fresh one: called before every (re)connect and REST call */
  token: string | (() => string | Promise<string>);
  /** the WebSocket constructor; the global one by default (Node 20 has none: pass ws's) */
  WebSocket?: WebSocketConstructor;
  /** reconnect delays, ms: full jitter under min(maxMs, initialMs * 2^attempt) */
  backoff?: BackoffOptions;
  /** the position to resume from on the first connect (e.g. kept from an earlier page) */
  position?: StreamPosition;
  /** base URL of the REST API; the http(s) origin of `url` by default */
  apiUrl?: string;
  /** fetch for listInbox; the global one by default */
  fetch?: typeof fetch;
  /** random source in [0, 1) for the jitter (tests) */
  random?: () => number;
}

/** One notification as GET /v1/notifications lists it (src/api/inbox.ts). */
export type InboxNotification = NotificationView & { read_at: string | null; archived: boolean; delivery: Record<string, unknown> };

export interface InboxPage {
  notifications: InboxNotification[];
  next_cursor: string | null;
}

export interface TidingsEvents {
  connection: ConnectionFrame;
  notification: NotificationFrame;
  unread_count: number;
  status: ClientStatus;
  /** the server could not resume: reload the inbox over REST (listInbox) */
  resync: { reason: string; position: StreamPosition };
  /** every missed notification was sent before this */
  resumed: { missed: number };
  system_alert: SystemAlertFrame['alert'];
  /** an error frame no command waited for, an undecodable frame, or a token hook that failed */
  error: Omit<ErrorFrame, 'type'>;
}

export interface TidingsClient {
  /** opens the socket; reconnects on its own until close() */
  connect(): void;
  /** closes the socket for good; waiting commands are rejected */
  close(): void;
  markRead(notificationId: string): Promise<MarkReadFrame>;
  markAllRead(): Promise<MarkReadFrame>;
  archive(notificationId: string): Promise<MarkReadFrame>;
  /** one page of the inbox, newest first */
  listInbox(query?: { limit?: number; cursor?: string; unread?: boolean; archived?: boolean }): Promise<InboxPage>;
  /** subscribe; returns the unsubscribe function */
  on<K extends keyof TidingsEvents>(type: K, listener: (value: TidingsEvents[K]) => void): () => void;
  readonly status: ClientStatus;
  /** the last unread_count the server sent, undefined before the first */
  readonly unreadCount: number | undefined;
  /** the last stream position seen */
  readonly position: StreamPosition | undefined;
  /** notification frames dropped as duplicates */
  readonly droppedDuplicates: number;
}

const OPEN = 1; // WebSocket.OPEN
const NORMAL_CLOSURE = 1000;

export function createTidingsClient(options: TidingsClientOptions): TidingsClient {
  const found = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!found) throw new TypeError('no WebSocket: pass the WebSocket option (e.g. the ws package\'s) on Node 20');
  const WS: WebSocketConstructor = found;
  const backoff = createBackoff(options.backoff ?? DEFAULT_BACKOFF, options.random);
  const stream = createStreamTracker(options.position);
  const pending = createPending();
  const listeners = new Map<keyof TidingsEvents, Set<(value: never) => void>>();
  let status: ClientStatus = 'closed';
  let unread: number | undefined;
  let socket: WebSocketLike | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wanted = false;
  let generation = 0; // a newer connect or close() makes an older open() give up

  const emit = <K extends keyof TidingsEvents>(type: K, value: TidingsEvents[K]) => {
    for (const listener of listeners.get(type) ?? []) (listener as (v: TidingsEvents[K]) => void)(value);
  };
  const setStatus = (next: ClientStatus) => {
    if (next === status) return;
    status = next;
    emit('status', next);
  };
  const token = async () => (typeof options.token === 'function' ? options.token() : options.token);

  const scheduleReconnect = () => {
    setStatus('reconnecting');
    timer = setTimeout(() => { timer = undefined; void open(); }, backoff.next());
  };

  async function open(): Promise<void> {
    const mine = ++generation;
    let jwt: string;
    try {
      jwt = await token();
    } catch (err) {
      if (mine !== generation || !wanted) return;
      emit('error', { error: `token hook failed: ${(err as Error).message}` });
      return scheduleReconnect();
    }
    if (mine !== generation || !wanted) return;
    const ws = new WS(socketUrl(options.url, jwt, stream.position));
    socket = ws;
    let opened = false;
    ws.onopen = () => {
      if (socket !== ws) return;
      opened = true;
      setStatus('open');
    };
    ws.onmessage = (event: { data: unknown }) => { if (socket === ws) receive(event.data); };
    ws.onerror = () => {}; // a close event follows, and says more
    ws.onclose = (event: { code: number }) => {
      if (socket !== ws) return;
      socket = undefined;
      pending.rejectAll(new Error(`socket closed (${event.code}) before the answer came`));
      if (!wanted) return setStatus('closed');
      // 4008: the user holds too many sockets; coming back at once would close another tab's, so the backoff keeps growing.
      if (opened && event.code !== TOO_MANY_CONNECTIONS) backoff.reset();
      scheduleReconnect();
    };
  }

  function receive(data: unknown): void {
    const frame = parse(data);
    if (!frame) return emit('error', { error: 'undecodable server frame' });
    switch (frame.type) {
      case 'connection':
        if (frame.position) stream.adopt(frame.position);
        return emit('connection', frame);
      case 'notification':
        if (stream.accept(frame.notification.id, frame.position)) emit('notification', frame);
        return;
      case 'resumed':
        return emit('resumed', { missed: frame.missed });
      case 'resync':
        stream.adopt(frame.position);
        return emit('resync', { reason: frame.reason, position: frame.position });
      case 'unread_count':
        unread = frame.count;
        return emit('unread_count', frame.count);
      case 'mark_read':
        pending.settle(frame);
        return;
      case 'error':
        if (!pending.settle(frame)) emit('error', { error: frame.error, command: frame.command, notification_id: frame.notification_id });
        return;
      case 'system_alert':
        return emit('system_alert', frame.alert);
      case 'pong':
        return;
      default: {
        // A frame type of a newer server: ignored.
        const _unknown: never = frame;
        return _unknown;
      }
    }
  }

  function command(type: InboxCommand, notificationId: string | null): Promise<MarkReadFrame> {
    if (!socket || socket.readyState !== OPEN) return Promise.reject(new Error(`not connected (${status})`));
    const answer = pending.add(type, notificationId);
    socket.send(JSON.stringify(notificationId === null ? { type } : { type, notification_id: notificationId }));
    return answer;
  }

  return {
    connect() {
      if (wanted) return;
      wanted = true;
      setStatus('connecting');
      void open();
    },
    close() {
      wanted = false;
      generation++;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      const ws = socket;
      socket = undefined;
      ws?.close(NORMAL_CLOSURE);
      pending.rejectAll(new Error('client closed'));
      setStatus('closed');
    },
    markRead: (id) => command('mark_read', id),
    markAllRead: () => command('mark_all_read', null),
    archive: (id) => command('archive', id),
    async listInbox(query = {}) {
      const url = new URL('/v1/notifications', options.apiUrl ?? httpOrigin(options.url));
      for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, String(value));
      // A local variable: a browser's fetch called as a method of another object throws "Illegal invocation".
      const request = options.fetch ?? globalThis.fetch;
      const response = await request(url, { headers: { authorization: `Bearer ${await token()}` } });
      if (!response.ok) throw new Error(`GET /v1/notifications answered ${response.status}`);
      return (await response.json()) as InboxPage;
    },
    on(type, listener) {
      const set = listeners.get(type) ?? new Set();
      listeners.set(type, set);
      set.add(listener as (value: never) => void);
      return () => { set.delete(listener as (value: never) => void); };
    },
    get status() { return status; },
    get unreadCount() { return unread; },
    get position() { return stream.position; },
    get droppedDuplicates() { return stream.dropped; },
  };
}

/** A server frame, or undefined for anything that is not a JSON object with a string `type`. */
function parse(data: unknown): ServerFrame | undefined {
  if (typeof data !== 'string') return undefined;
  try {
    const value: unknown = JSON.parse(data);
    return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string' ? value as ServerFrame : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The WebSocket server on the HTTP server's port, at /v1/ws (the gateway
 * processor pushes to the sockets it holds). A browser
 * authenticates with `?token=<jwt>` (browsers cannot set headers on a
 * WebSocket), other clients may send `Authorization: Bearer`. The Origin must
 * be on the allow-list. The server pings every 30 s and drops a client that
 * did not answer the previous ping. Clients may send ping and the inbox
 * commands mark_read, mark_all_read and archive (see client-frames.ts).
 */
import { STATUS_CODES, type Server, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Authenticator, Principal } from '../auth.ts';
import { bearerToken } from '../auth.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { ReadActionDeps } from '../api/read-actions.ts';
import type { Connections } from './connections.ts';
import { GOING_AWAY, WS_PATH, RESUME_EPOCH, RESUME_OFFSET, type ConnectionFrame, type ServerFrame, type StreamPosition } from './protocol.ts';
import { handleClientFrame } from './client-frames.ts';
import { createCommandRunner } from './commands.ts';
import type { UnreadCounts } from './unread-counts.ts';
import type { InboxStreams } from './streams.ts';
import type { Resumer } from './resume.ts';

const PING_INTERVAL = 30_000; // ms
const MAX_FRAME = 64 * 1024; // bytes of one client frame; ws closes the socket with 1009 past it
const MAX_COMMANDS_IN_FLIGHT = 8; // per socket: a client flooding commands gets errors, not a queue

export interface SocketServerOptions {
  server: Server;
  auth: Authenticator;
  connections: Connections;
  /** allowed Origins; '*' allows any; a request without Origin (not a browser) is allowed */
  origins: readonly string[];
  log: Logger;
  /** where the frames this server sends itself (connection, pong, error, mark_read) are counted; the gateway's are counted by `connections` */
  metrics?: Metrics;
  /** what the inbox commands need (the api role's); without, each command is answered with an error frame */
  commands?: ReadActionDeps | undefined;
  /** sends each new socket its unread count after the connection frame; none: no count on connect */
  unreadCounts?: Pick<UnreadCounts, 'greet'>;
  /** positions of the users' streams and resume (src/websocket/resume.ts); none: the connection frame carries no position and resume requests are ignored */
  streams?: { streams: InboxStreams; resumer: Resumer; limit: number };
}

export interface SocketServer {
  close(): Promise<void>;
}

export function attachSocketServer(options: SocketServerOptions): SocketServer {
  const { connections, log } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME });
  const alive = new WeakMap<WebSocket, boolean>();
  const inFlight = new WeakMap<WebSocket, number>();
  const runner = createCommandRunner(options.commands, log);
  const send = (ws: WebSocket, frame: ServerFrame) => {
    if (ws.readyState !== ws.OPEN) return; // a command's answer may come after the client left
    ws.send(JSON.stringify(frame));
    options.metrics?.websocket.framesSent.inc({ type: frame.type });
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // The HTTP server has let go of the socket: without a listener, a client's reset would be an uncaught 'error'.
    socket.on('error', destroy);
    // A request target such as "http://[" does not parse; thrown here, it would be an uncaught exception.
    if (!URL.canParse(req.url ?? '/', 'http://localhost')) return reject(socket, 400, 'bad request target');
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== WS_PATH) return reject(socket, 404, 'not found');
    const origin = req.headers.origin;
    if (origin !== undefined && !options.origins.includes('*') && !options.origins.includes(origin)) {
      return reject(socket, 403, 'origin not allowed');
    }
    const from = resumePosition(url.searchParams);
    if (typeof from === 'string') return reject(socket, 400, from);
    const token = url.searchParams.get('token') ?? bearerToken(req.headers.authorization);
    if (!token) return reject(socket, 401, 'missing token');
    options.auth.verify(token).then(
      (principal) => {
        socket.off('error', destroy); // ws listens from here on
        wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, principal, from));
      },
      (err: Error) => reject(socket, 401, err.message),
    );
  };

  const onConnection = (ws: WebSocket, principal: Principal, from: StreamPosition | undefined) => {
    connections.add(principal.userId, ws, principal.roles);
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    ws.on('close', () => connections.remove(principal.userId, ws));
    ws.on('error', (err) => log.debug({ err }, 'websocket error'));
    ws.on('message', (data, isBinary) => {
      const outcome = handleClientFrame(isBinary ? null : data.toString(), Date.now());
      if (outcome.kind === 'reply') return send(ws, outcome.frame);
      const running = inFlight.get(ws) ?? 0;
      if (running >= MAX_COMMANDS_IN_FLIGHT) {
        return send(ws, { type: 'error', error: `at most ${MAX_COMMANDS_IN_FLIGHT} commands at once; wait for their answers`, command: outcome.command.type });
      }
      inFlight.set(ws, running + 1);
      // run() answers every failure with an error frame; it does not reject.
      void runner.run(principal.userId, outcome.command, Date.now()).then((frame) => {
        inFlight.set(ws, (inFlight.get(ws) ?? 1) - 1);
        send(ws, frame);
      });
    });
    const hello: ConnectionFrame = { type: 'connection', user_id: principal.userId, server_time: new Date().toISOString() };
    const { streams } = options;
    if (streams && from) resume(ws, principal.userId, from, streams);
    else if (streams) hello.position = streams.streams.current(principal.userId);
    send(ws, hello);
    options.unreadCounts?.greet(principal.userId, (count) => send(ws, { type: 'unread_count', count }));
  };

  /** Holds the socket's live notification frames, sends what it missed, then them (src/websocket/resume.ts). */
  const resume = (ws: WebSocket, userId: string, from: StreamPosition, { streams, resumer, limit }: NonNullable<SocketServerOptions['streams']>) => {
    connections.hold(ws, limit);
    const heldFrom = streams.next(streams.partitionOf(userId));
    // resume() answers every failure with a resync; it does not reject.
    void resumer.resume(userId, from, heldFrom, () => ws.readyState !== ws.OPEN).then((outcome) => {
      const held = connections.held(ws);
      if (outcome.kind === 'resumed' && held.overflowed) {
        // The held frames were dropped: the client reloads its inbox, which has them or soon will.
        send(ws, { type: 'resync', reason: `more than ${limit} notifications arrived while resuming`, position: { epoch: outcome.position.epoch, offset: String(held.last) } });
        return connections.release(userId, ws, held.last ?? 0n);
      }
      if (outcome.kind === 'resumed') {
        for (const frame of outcome.frames) send(ws, frame);
        send(ws, { type: 'resumed', missed: outcome.frames.length, position: outcome.position });
      } else {
        send(ws, { type: 'resync', reason: outcome.reason, position: outcome.position });
      }
      connections.release(userId, ws, BigInt(outcome.position.offset));
    });
  };

  const pinger = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, PING_INTERVAL);
  pinger.unref();

  options.server.on('upgrade', onUpgrade);

  return {
    async close() {
      clearInterval(pinger);
      options.server.off('upgrade', onUpgrade);
      connections.closeAll(GOING_AWAY, 'server shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** The position a socket resumes from, from its query (both parameters or neither); a string says what is wrong. */
export function resumePosition(query: URLSearchParams): StreamPosition | undefined | string {
  const epoch = query.get(RESUME_EPOCH);
  const offset = query.get(RESUME_OFFSET);
  if (epoch === null && offset === null) return undefined;
  if (epoch === null || offset === null) return `${RESUME_EPOCH} and ${RESUME_OFFSET} go together: give both to resume, or neither`;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(epoch)) return `${RESUME_EPOCH} must be the epoch of a position the server sent`;
  // -1: before the first record; Kafka offsets are signed 64-bit.
  if (!/^(-1|0|[1-9][0-9]{0,18})$/.test(offset) || BigInt(offset) > 2n ** 63n - 1n) return `${RESUME_OFFSET} must be the offset of a position the server sent (an integer from -1)`;
  return { epoch, offset };
}

function destroy(this: Duplex): void {
  this.destroy();
}

function reject(socket: Duplex, status: number, reason: string): void {
  const body = JSON.stringify({ error: reason });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

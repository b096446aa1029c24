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
import { GOING_AWAY, WS_PATH, type ConnectionFrame, type ServerFrame } from './protocol.ts';
import { handleClientFrame } from './client-frames.ts';
import { createCommandRunner } from './commands.ts';
import type { UnreadCounts } from './unread-counts.ts';

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
    const token = url.searchParams.get('token') ?? bearerToken(req.headers.authorization);
    if (!token) return reject(socket, 401, 'missing token');
    options.auth.verify(token).then(
      (principal) => {
        socket.off('error', destroy); // ws listens from here on
        wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, principal));
      },
      (err: Error) => reject(socket, 401, err.message),
    );
  };

  const onConnection = (ws: WebSocket, principal: Principal) => {
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
    send(ws, hello);
    options.unreadCounts?.greet(principal.userId, (count) => send(ws, { type: 'unread_count', count }));
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

function destroy(this: Duplex): void {
  this.destroy();
}

function reject(socket: Duplex, status: number, reason: string): void {
  const body = JSON.stringify({ error: reason });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

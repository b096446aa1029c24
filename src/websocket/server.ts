/**
 * The WebSocket server on the HTTP server's port, at /v1/ws (the gateway
 * processor pushes to the sockets it holds). A browser
 * authenticates with `?token=<jwt>` (browsers cannot set headers on a
 * WebSocket), other clients may send `Authorization: Bearer`. The Origin must
 * be on the allow-list. The server pings every 30 s and drops a client that
 * did not answer the previous ping.
 */
import { STATUS_CODES, type Server, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Authenticator, Principal } from '../auth.ts';
import { bearerToken } from '../auth.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Connections } from './connections.ts';
import { GOING_AWAY, WS_PATH, type ConnectionFrame, type ErrorFrame, type PongFrame, type ServerFrame } from './protocol.ts';

const PING_INTERVAL = 30_000; // ms
const MAX_FRAME = 64 * 1024; // bytes a client may send in one frame

export interface SocketServerOptions {
  server: Server;
  auth: Authenticator;
  connections: Connections;
  /** allowed Origins; '*' allows any; a request without Origin (not a browser) is allowed */
  origins: readonly string[];
  log: Logger;
  /** where the frames this server sends itself (connection, pong, error) are counted; the gateway's are counted by `connections` */
  metrics?: Metrics;
}

export interface SocketServer {
  close(): Promise<void>;
}

export function attachSocketServer(options: SocketServerOptions): SocketServer {
  const { connections, log } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME });
  const alive = new WeakMap<WebSocket, boolean>();
  const send = (ws: WebSocket, frame: ServerFrame) => {
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
    connections.add(principal.userId, ws);
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    ws.on('close', () => connections.remove(principal.userId, ws));
    ws.on('error', (err) => log.debug({ err }, 'websocket error'));
    ws.on('message', (data, isBinary) => {
      send(ws, handleClientFrame(isBinary ? null : data.toString()));
    });
    const hello: ConnectionFrame = { type: 'connection', user_id: principal.userId, server_time: new Date().toISOString() };
    send(ws, hello);
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

/** The server's answer to a client frame; unknown frames get an error frame. */
export function handleClientFrame(text: string | null): PongFrame | ErrorFrame {
  if (text === null) return { type: 'error', error: 'binary frames are not supported' };
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return { type: 'error', error: 'frames must be JSON' };
  }
  const type = typeof frame === 'object' && frame !== null ? (frame as { type?: unknown }).type : undefined;
  if (type === 'ping') return { type: 'pong', server_time: new Date().toISOString() };
  return { type: 'error', error: `unknown frame type ${JSON.stringify(type)}` };
}

function destroy(this: Duplex): void {
  this.destroy();
}

function reject(socket: Duplex, status: number, reason: string): void {
  const body = JSON.stringify({ error: reason });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * Webhook receivers for the tests: real HTTP servers on loopback addresses
 * (tests send traffic nowhere else), answering each path as a test tells them
 * and keeping every request they got.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Date.now() when the request was read */
  at: number;
}

/** How to answer one request: a status with headers, or never (the connection is left hanging). */
export type Answer = { status: number; headers?: Record<string, string> } | 'hang';

/** An answer chosen by the request and the ones before it on the same path. */
export type Answering = (request: Received, before: Received[]) => Answer;

export interface Receiver {
  /** http://host:port */
  url: string;
  requests: Received[];
  /** requests to `path` */
  at(path: string): Received[];
  /** how `path` answers from now on; `answers` are used in turn, the last one repeats */
  answer(path: string, ...answers: Answer[]): void;
  /** how `path` answers from now on, request by request */
  answerWith(path: string, answering: Answering): void;
  close(): Promise<void>;
}

export async function startReceiver(host: string): Promise<Receiver> {
  const requests: Received[] = [];
  const plans = new Map<string, Answer[]>();
  const chosen = new Map<string, Answering>();
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v ?? '']));
      const received = { path, headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      const before = requests.filter((r) => r.path === path);
      requests.push(received);
      const plan = plans.get(path) ?? [];
      const answering = chosen.get(path);
      const answer = answering ? answering(received, before) : (plan.length > 1 ? plan.shift() : plan[0]) ?? { status: 200 };
      if (answer === 'hang') {
        hanging.add(res);
        return;
      }
      res.writeHead(answer.status, answer.headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    requests,
    at: (path) => requests.filter((r) => r.path === path),
    answer: (path, ...answers) => { chosen.delete(path); plans.set(path, answers); },
    answerWith: (path, answering) => { chosen.set(path, answering); },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

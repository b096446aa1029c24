/**
 * The webhook Agent's connection-time guard over real loopback sockets: with
 * 127.0.0.2/32 allowed, a server there is reached and one on 127.0.0.1 never
 * is, whether named by address, by `localhost`, or by a name whose answers
 * mix the two. Only loopback addresses are ever connected to.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request, type Agent } from 'undici';
import { parseNetworks, type Resolver } from '../../src/channels/webhook/address-guard.ts';
import { AddressRefusedError, createWebhookAgent } from '../../src/channels/webhook/agent.ts';

interface Listener {
  readonly server: Server;
  readonly port: number;
  readonly hosts: string[];
}

async function listen(host: string, answer: (path: string) => { status: number; headers?: Record<string, string> }): Promise<Listener> {
  const hosts: string[] = [];
  const server = createServer((req, res) => {
    hosts.push(req.headers.host ?? '');
    const { status, headers } = answer(req.url ?? '/');
    res.writeHead(status, headers).end('ok');
  });
  server.listen(0, host);
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, hosts };
}

const close = async (server: Server) => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
};

describe('webhook agent address guard', () => {
  let allowed: Listener;
  let refused: Listener;
  const agents: Agent[] = [];
  const agent = (resolve?: Resolver) => {
    const a = createWebhookAgent({ allowed: parseNetworks('127.0.0.2/32'), connectionsPerOrigin: 2, connectTimeoutMs: 5_000, ...(resolve ? { resolve } : {}) });
    agents.push(a);
    return a;
  };
  const post = (url: string, dispatcher: Agent) => request(url, { dispatcher, method: 'POST', body: '{}' });

  beforeAll(async () => {
    refused = await listen('127.0.0.1', () => ({ status: 200 }));
    allowed = await listen('127.0.0.2', (path) => path === '/moved'
      ? { status: 302, headers: { location: `http://127.0.0.1:${refused.port}/` } }
      : { status: 200 });
  });
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.close()));
    expect(refused.hosts).toEqual([]);
  });
  afterAll(async () => {
    await Promise.all([allowed, refused].filter(Boolean).map((l) => close(l.server)));
  });

  it('reaches an address inside an allowed network', async () => {
    const res = await post(`http://127.0.0.2:${allowed.port}/hook`, agent());
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe('ok');
  });

  it('refuses 127.0.0.1 before connecting', async () => {
    const err = await post(`http://127.0.0.1:${refused.port}/hook`, agent()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AddressRefusedError);
    expect(err).toMatchObject({ code: 'TIDINGS_ADDRESS_REFUSED', retriable: false });
    expect((err as AddressRefusedError).reason).toContain('loopback');
  });

  it('refuses an IPv6 loopback literal', async () => {
    const err = await post(`http://[::1]:${refused.port}/hook`, agent()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AddressRefusedError);
  });

  it('refuses localhost, which resolves to loopback', async () => {
    const err = await post(`http://localhost:${refused.port}/hook`, agent()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AddressRefusedError);
    expect((err as AddressRefusedError).reason).toMatch(/^localhost resolves to (127\.0\.0\.1|::1): .*loopback/);
  });

  it('returns a redirect as it is instead of following it', async () => {
    const res = await post(`http://127.0.0.2:${allowed.port}/moved`, agent());
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe(`http://127.0.0.1:${refused.port}/`);
    await res.body.dump();
  });

  it('connects a name to the address it checked, resolving it once, and keeps the name in the Host header', async () => {
    const asked: string[] = [];
    // A rebinding name: the first answer passes, every later one points at 127.0.0.1.
    const rebinding: Resolver = async (hostname) => {
      asked.push(hostname);
      return [{ address: asked.length === 1 ? '127.0.0.2' : '127.0.0.1', family: 4 }];
    };
    const a = agent(rebinding);
    const res = await post(`http://hook.test:${allowed.port}/hook`, a);
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(asked).toEqual(['hook.test']);
    expect(allowed.hosts.at(-1)).toBe(`hook.test:${allowed.port}`);
  });

  it('refuses a name when any of its answers is refused', async () => {
    const mixed: Resolver = async () => [{ address: '127.0.0.2', family: 4 }, { address: '127.0.0.1', family: 4 }];
    const err = await post(`http://mixed.test:${refused.port}/hook`, agent(mixed)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AddressRefusedError);
    expect((err as AddressRefusedError).reason).toContain('mixed.test resolves to 127.0.0.1');
  });

  it('tells a network failure from a refusal', async () => {
    const closed = await listen('127.0.0.2', () => ({ status: 200 }));
    const { port } = closed;
    await close(closed.server);
    const err = await post(`http://127.0.0.2:${port}/hook`, agent()).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(AddressRefusedError);
    expect(err).toMatchObject({ code: 'ECONNREFUSED' });
  });
});

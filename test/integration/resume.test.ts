/**
 * Resume on the real stack: a socket opened with the position of the last
 * notification frame its client saw gets what it missed, in order and once,
 * then the live frames; on a gateway that restarted as another instance too;
 * and resync where it cannot (too many missed, another epoch).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { callApi, connectClient, type SocketClient, isolatedSettings, startWith, waitFor, waitUntilProcessed, type Harness } from './harness.ts';

type Client = SocketClient;
interface Position { epoch: string; offset: string }

const LIMIT = 30; // TIDINGS_WS_RESUME_LIMIT here

describe('resume after a reconnect', () => {
  let settings: Awaited<ReturnType<typeof isolatedSettings>>;
  let h: Harness;
  let producer: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    settings = await isolatedSettings({ TIDINGS_WS_RESUME_LIMIT: String(LIMIT) });
    h = await startWith(settings);
    producer = await h.auth.sign({ userId: 'svc', roles: ['producer'] });
  });
  afterAll(async () => {
    for (const c of clients) c.socket.close();
    await h?.stop();
  });

  const connect = async (wsUrl: string, userId: string, from?: Position) => {
    const query = from ? `${wsUrl}?epoch=${from.epoch}&offset=${from.offset}` : wsUrl;
    const client = await connectClient(query, await h.auth.sign({ userId, roles: [] }));
    clients.push(client);
    return client;
  };
  async function emit(userId: string, title: string) {
    const { status, body } = await callApi(h, 'POST', '/v1/events', producer, { user_id: userId, type: 'job_completed', title, message: title, source_type: 'test', source_id: randomUUID() });
    expect(status).toBe(202);
    return body.notification_ids[userId] as string;
  }
  const notifications = (c: Client) => c.frames.filter((f) => f.type === 'notification') as { notification: { id: string; title: string }; position: Position }[];
  const expectIncreasing = (frames: ReturnType<typeof notifications>) => {
    const offsets = frames.map((f) => BigInt(f.position.offset));
    expect(offsets.every((o, i) => i === 0 || o > offsets[i - 1]!)).toBe(true);
  };
  const lastPosition = (c: Client) => notifications(c).at(-1)!.position;
  const frameOf = (c: Client, type: string) => waitFor(() => c.frames.find((f) => f.type === type), `a ${type} frame`, 15_000);
  const close = async (c: Client) => {
    c.socket.close();
    await waitFor(() => (c.socket.readyState === WebSocket.CLOSED ? true : undefined), 'the socket to close');
  };

  it('a reconnect with the last position gets the missed notifications in order, then resumed, then live ones, none twice', async () => {
    const alice = `alice-${randomUUID()}`;
    const first = await connect(h.tidings.wsUrl, alice);
    const hello = await frameOf(first, 'connection') as { position: Position };
    expect(hello.position).toEqual({ epoch: expect.stringMatching(/^[A-Za-z0-9_-]{16}$/), offset: expect.stringMatching(/^-?\d+$/) });
    const seen = [await emit(alice, 'one'), await emit(alice, 'two')];
    await waitFor(() => (notifications(first).length === 2 ? true : undefined), 'two live frames');
    expect(notifications(first).map((f) => f.notification.id)).toEqual(seen);
    const offsets = notifications(first).map((f) => BigInt(f.position.offset));
    expect(offsets[0]! > BigInt(hello.position.offset) && offsets[1]! > offsets[0]!).toBe(true);
    const from = lastPosition(first);
    await close(first);

    const missed = [await emit(alice, 'three'), await emit(alice, 'four'), await emit(alice, 'five')];
    await waitUntilProcessed(h);
    const again = await connect(h.tidings.wsUrl, alice, from);
    const resumed = await frameOf(again, 'resumed') as { missed: number; position: Position };
    expect(resumed.missed).toBe(3);
    expect(again.frames[0]).toMatchObject({ type: 'connection' });
    expect(again.frames[0]).not.toHaveProperty('position');
    // The missed frames come before `resumed`, in the order of the user's stream (events of several
    // sources are on several partitions of notification.events, so not necessarily in the order posted).
    const before = again.frames.slice(0, again.frames.indexOf(resumed)).filter((f) => f.type === 'notification') as ReturnType<typeof notifications>;
    expect(before.map((f) => f.notification.id).sort()).toEqual([...missed].sort());
    expectIncreasing(before);

    const live = await emit(alice, 'six');
    await waitFor(() => (notifications(again).length === 4 ? true : undefined), 'the live frame after the missed ones');
    expect(notifications(again).at(-1)!.notification.id).toBe(live);
    expectIncreasing(notifications(again));
    expect(BigInt(lastPosition(again).offset) > BigInt(resumed.position.offset)).toBe(true);
  });

  it('while the projector is behind, a resume waits, holding live frames, then sends the missed ones and the held ones, each once; past the wait it is a resync', async () => {
    // A deployment without a projector at first: the gateway pushes what the inbox read model does not have yet.
    const own = await isolatedSettings({ TIDINGS_ROLES: 'ingest,api,dedupe,router,gateway', TIDINGS_WS_RESUME_WAIT_MS: '60000' });
    const front = await startWith(own);
    const impatient = await startWith(own, { TIDINGS_ROLES: 'gateway', TIDINGS_INSTANCE_ID: `${own.id}-short`, TIDINGS_WS_RESUME_WAIT_MS: '200' });
    let projector: Harness | undefined;
    try {
      const erin = `erin-${randomUUID()}`;
      const post = async (title: string) => {
        const { status, body } = await callApi(front, 'POST', '/v1/events', await front.auth.sign({ userId: 'svc', roles: ['producer'] }), { user_id: erin, type: 'job_completed', title, message: title, source_type: 'test', source_id: randomUUID() });
        expect(status).toBe(202);
        return body.notification_ids[erin] as string;
      };
      const watcher = await connect(front.tidings.wsUrl, erin);
      const first = await connect(front.tidings.wsUrl, erin);
      const from = (await frameOf(first, 'connection') as { position: Position }).position;
      await close(first);
      const missed = [await post('missed 1'), await post('missed 2'), await post('missed 3')];
      await waitFor(() => (notifications(watcher).length === 3 ? true : undefined), 'the gateway to push the three');

      const slow = await connect(impatient.tidings.wsUrl, erin, from);
      expect(await frameOf(slow, 'resync')).toMatchObject({ reason: 'the inbox is not up to date yet' });

      const again = await connect(front.tidings.wsUrl, erin, from);
      await frameOf(again, 'connection');
      const during = [await post('during 1'), await post('during 2')];
      await waitFor(() => (notifications(watcher).length === 5 ? true : undefined), 'the gateway to push the two more');
      expect(notifications(again)).toEqual([]); // held: the missed ones are not known yet

      projector = await startWith(own, { TIDINGS_ROLES: 'projector', TIDINGS_INSTANCE_ID: `${own.id}-projector` });
      const resumed = await frameOf(again, 'resumed');
      expect(resumed).toMatchObject({ missed: 3 });
      await waitFor(() => (notifications(again).length === 5 ? true : undefined), 'the held frames after the missed ones');
      const ids = notifications(again).map((f) => f.notification.id);
      expect(ids.slice(0, 3).sort()).toEqual([...missed].sort());
      expect(ids.slice(3).sort()).toEqual([...during].sort());
      expect(again.frames.indexOf(resumed)).toBeLessThan(again.frames.indexOf(notifications(again)[3]!));
      expectIncreasing(notifications(again));
      expect(notifications(again).map((f) => f.position)).toEqual(notifications(watcher).map((f) => f.position));
    } finally {
      await projector?.stop();
      await impatient.stop();
      await front.stop();
    }
  });

  it('a reconnect to a gateway that restarted as another instance misses nothing and doubles nothing', async () => {
    const bob = `bob-${randomUUID()}`;
    let gateway = await startWith(settings, { TIDINGS_ROLES: 'gateway', TIDINGS_INSTANCE_ID: `${settings.id}-g1` });
    try {
      const first = await connect(gateway.tidings.wsUrl, bob);
      const sent = [await emit(bob, 'a'), await emit(bob, 'b')];
      await waitFor(() => (notifications(first).length === 2 ? true : undefined), 'two frames from the first gateway');
      const from = lastPosition(first);
      await gateway.stop();
      const meanwhile = [await emit(bob, 'c'), await emit(bob, 'd')];
      gateway = await startWith(settings, { TIDINGS_ROLES: 'gateway', TIDINGS_INSTANCE_ID: `${settings.id}-g2` });
      const later = await emit(bob, 'e'); // published after the new gateway started: a live frame
      const again = await connect(gateway.tidings.wsUrl, bob, from);
      await frameOf(again, 'resumed');
      await waitFor(() => (notifications(again).length >= 3 ? true : undefined), 'the missed and the live frames');
      await waitUntilProcessed(h);
      await emit(bob, 'f');
      await waitFor(() => (notifications(again).length >= 4 ? true : undefined), 'one more live frame');
      const ids = notifications(again).map((f) => f.notification.id);
      expect(ids.slice(0, 3).sort()).toEqual([...meanwhile, later].sort());
      expect(new Set([...sent, ...ids]).size).toBe(sent.length + ids.length);
      expectIncreasing(notifications(again));
    } finally {
      await gateway.stop();
    }
  });

  it('more missed than TIDINGS_WS_RESUME_LIMIT is a resync with a position that live frames follow', async () => {
    const carol = `carol-${randomUUID()}`;
    const first = await connect(h.tidings.wsUrl, carol);
    const from = (await frameOf(first, 'connection') as { position: Position }).position;
    await close(first);
    await Promise.all(Array.from({ length: LIMIT + 1 }, (_, i) => emit(carol, `missed ${i}`)));
    await waitUntilProcessed(h);
    const again = await connect(h.tidings.wsUrl, carol, from);
    const resync = await frameOf(again, 'resync') as { reason: string; position: Position };
    expect(resync.reason).toBe(`more than ${LIMIT} notifications were missed`);
    expect(notifications(again)).toEqual([]);
    const live = await emit(carol, 'live');
    await waitFor(() => (notifications(again).length === 1 ? true : undefined), 'the live frame after resync');
    expect(notifications(again)[0]!.notification.id).toBe(live);
    expect(BigInt(notifications(again)[0]!.position.offset) > BigInt(resync.position.offset)).toBe(true);
  });

  it('a position of another epoch is a resync; a malformed one is refused with 400 and a reason', async () => {
    const dave = `dave-${randomUUID()}`;
    const client = await connect(h.tidings.wsUrl, dave, { epoch: 'AAAAAAAAAAAAAAAA', offset: '3' });
    expect(await frameOf(client, 'resync')).toMatchObject({ reason: expect.stringContaining('another epoch'), position: { epoch: expect.any(String) } });

    const token = await h.auth.sign({ userId: dave, roles: [] });
    for (const [query, reason] of [
      ['epoch=abc', 'epoch and offset go together'],
      ['epoch=abc&offset=x1', 'offset must be'],
      ['epoch=abc&offset=99999999999999999999', 'offset must be'],
      ['epoch=a%20b&offset=1', 'epoch must be'],
    ] as const) {
      const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const socket = new WebSocket(`${h.tidings.wsUrl}?token=${token}&${query}`);
        socket.once('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => { body += chunk.toString(); });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        socket.once('open', () => reject(new Error(`${query} was accepted`)));
      });
      expect(refused.status).toBe(400);
      expect(JSON.parse(refused.body).error).toContain(reason);
    }
  });
});

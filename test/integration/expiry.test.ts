/**
 * Expiry on the real stack: a notification whose expires_at passes leaves the
 * inbox listing, the unread count, mark read (404) and a socket's resume at
 * once, while the others stay; one already expired when it reaches the
 * projector and the gateway is neither projected nor pushed live; a rebuild
 * applies the same rule; and the cleanup deletes expired rows from Postgres
 * (TIDINGS_NOTIFICATION_CLEANUP_INTERVAL_MS of a few ms) and nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { callApi, connectClient, isolatedSettings, startWith, waitFor, waitUntilProcessed, type Harness } from './harness.ts';
import { runTidings } from './tidings-process.ts';

type Frame = Record<string, unknown>;
interface Position { epoch: string; offset: string }

/** ms from posting to expiry: long enough for the pipeline to project and push it first */
const SOON_MS = 1_500;

function client(h: Harness) {
  const sockets: WebSocket[] = [];
  return {
    sockets,
    api: async (method: string, path: string, userId: string, body?: unknown) => callApi(h, method, path, await h.auth.sign({ userId, roles: [] }), body),
    /** posts a job_completed event for `userId`; returns its notification id */
    emit: async (userId: string, title: string, expiresAt?: number) => {
      const producer = await h.auth.sign({ userId: 'svc', roles: ['producer'] });
      const { status, body } = await callApi(h, 'POST', '/v1/events', producer, {
        user_id: userId, type: 'job_completed', title, message: title, source_type: 'test', source_id: randomUUID(), ...(expiresAt === undefined ? {} : { expires_at: expiresAt }),
      });
      expect(status).toBe(202);
      return body.notification_ids[userId] as string;
    },
    connect: async (userId: string, from?: Position) => {
      const query = from ? `${h.tidings.wsUrl}?epoch=${from.epoch}&offset=${from.offset}` : h.tidings.wsUrl;
      const c = await connectClient(query, await h.auth.sign({ userId, roles: [] }));
      sockets.push(c.socket);
      return c;
    },
    rows: async (ids: string[]) => (await h.tidings.pool.query<{ id: string }>('select id from notifications where id = any($1::uuid[])', [ids])).rows.map((r) => r.id).sort(),
  };
}

const pushed = (frames: Frame[]) => frames.filter((f) => f.type === 'notification').map((f) => (f as { notification: { id: string } }).notification.id);
const untilPast = (at: number) => waitFor(() => (Date.now() > at ? true : undefined), 'the expiry to pass', SOON_MS * 10);

describe('expiry, without the cleanup in the way', () => {
  let settings: Awaited<ReturnType<typeof isolatedSettings>>;
  let h: Harness | undefined;
  let c: ReturnType<typeof client>;

  beforeAll(async () => {
    // The first round runs at start; the next not within the test: what hides expired rows here is the queries.
    settings = await isolatedSettings({ TIDINGS_NOTIFICATION_CLEANUP_INTERVAL_MS: String(3_600_000) });
    h = await startWith(settings);
    c = client(h);
  });
  afterAll(async () => {
    for (const s of c?.sockets ?? []) s.close();
    await h?.stop();
  });

  it('after expires_at, a notification leaves the listing, the unread count, mark read and resume; the others stay, and its row stays until the cleanup', async () => {
    const alice = `alice-${randomUUID()}`;
    const live = await c.connect(alice);
    const from = (await waitFor(() => live.frames.find((f) => f.type === 'connection'), 'the connection frame') as { position: Position }).position;
    const expiresAt = Date.now() + SOON_MS;
    const soon = await c.emit(alice, 'soon', expiresAt);
    const forever = await c.emit(alice, 'forever');
    const later = await c.emit(alice, 'later', Date.now() + 3_600_000);
    const listed = async (query = '') => ((await c.api('GET', `/v1/notifications?limit=100${query}`, alice)).body.notifications as { id: string; expires_at: string | null }[]);
    const unread = async () => (await c.api('GET', '/v1/notifications/unread-count', alice)).body.unread as number;

    // Before: like any other, pushed live too.
    const before = await waitFor(async () => { const l = await listed(); return l.length === 3 ? l : undefined; }, 'three in the inbox');
    expect(Date.now()).toBeLessThan(expiresAt); // else the pipeline was slower than SOON_MS and this proves nothing
    expect(before.find((n) => n.id === soon)?.expires_at).toBe(new Date(expiresAt).toISOString());
    expect(before.find((n) => n.id === forever)?.expires_at).toBeNull();
    expect(await unread()).toBe(3);
    await waitFor(() => (pushed(live.frames).length === 3 ? true : undefined), 'three live frames');
    expect(pushed(live.frames).sort()).toEqual([soon, forever, later].sort());

    await untilPast(expiresAt);
    expect((await listed()).map((n) => n.id).sort()).toEqual([forever, later].sort());
    expect(await listed('&unread=true')).toHaveLength(2);
    expect(await unread()).toBe(2);
    expect((await c.api('POST', `/v1/notifications/${soon}/read`, alice)).status).toBe(404);
    expect((await c.api('POST', `/v1/notifications/${soon}/archive`, alice)).status).toBe(404);
    expect((await c.api('POST', `/v1/notifications/${forever}/read`, alice)).status).toBe(202);
    await waitFor(async () => ((await unread()) === 1 ? true : undefined), 'unread 1');

    live.socket.close();
    const again = await c.connect(alice, from);
    const resumed = await waitFor(() => again.frames.find((f) => f.type === 'resumed'), 'the resumed frame') as { missed: number };
    expect(resumed.missed).toBe(2);
    expect(pushed(again.frames).sort()).toEqual([forever, later].sort());
    // Hidden by the queries; the row itself is the cleanup's to delete.
    expect(await c.rows([soon, forever, later])).toEqual([soon, forever, later].sort());
  });

  it('a notification already expired when it reaches the projector and the gateway is neither projected nor pushed; the ones after it are', async () => {
    const bob = `bob-${randomUUID()}`;
    const live = await c.connect(bob);
    await waitFor(() => live.frames.find((f) => f.type === 'connection'), 'the connection frame');
    const expired = await c.emit(bob, 'expired', Date.now() - 1_000);
    const after = await c.emit(bob, 'after');
    // One user's notifications are on one partition of notification.inbox, in order: once `after` is pushed, `expired` was decided.
    await waitFor(() => (pushed(live.frames).includes(after) ? true : undefined), 'the next notification pushed');
    await waitUntilProcessed(h!);
    expect(pushed(live.frames)).toEqual([after]);
    expect(live.frames.filter((f) => f.type === 'system_alert')).toEqual([]);
    expect(await c.rows([expired, after])).toEqual([after]);
    expect(((await c.api('GET', '/v1/notifications', bob)).body.notifications as { id: string }[]).map((n) => n.id)).toEqual([after]);
    expect((await c.api('GET', '/v1/notifications/unread-count', bob)).body.unread).toBe(1);
  });

  it('a rebuild replays the log into the read models without the notifications expired by then', async () => {
    const carol = `carol-${randomUUID()}`;
    const expiresAt = Date.now() + SOON_MS;
    const soon = await c.emit(carol, 'soon', expiresAt);
    const forever = await c.emit(carol, 'forever');
    await waitUntilProcessed(h!);
    expect(await c.rows([soon, forever])).toEqual([soon, forever].sort());
    await h!.stop();
    h = undefined;
    await untilPast(expiresAt);

    const rebuilt = await runTidings(['rebuild', '--yes'], settings.env);
    expect(rebuilt.stderr).toMatch(/rebuild 100%/);
    expect(rebuilt.code).toBe(0);
    h = await startWith(settings);
    c = client(h);
    expect(await c.rows([soon, forever])).toEqual([forever]);
    // Whatever else the log holds (the tests before), nothing replayed had expired.
    const expired = await h.tidings.pool.query('select 1 from notifications where expires_at <= now()');
    expect(expired.rowCount).toBe(0);
  }, 120_000);
});

describe('the expiry cleanup', () => {
  let h: Harness;
  let c: ReturnType<typeof client>;

  beforeAll(async () => {
    h = await startWith(await isolatedSettings({ TIDINGS_NOTIFICATION_CLEANUP_INTERVAL_MS: '5' }));
    c = client(h);
  });
  afterAll(async () => {
    for (const s of c?.sockets ?? []) s.close();
    await h?.stop();
  });

  it('deletes the rows of expired notifications, whatever was read of them, and only those; the projector goes on', async () => {
    const dana = `dana-${randomUUID()}`;
    const expiresAt = Date.now() + SOON_MS;
    const soon = [await c.emit(dana, 'soon 1', expiresAt), await c.emit(dana, 'soon 2', expiresAt)];
    const forever = await c.emit(dana, 'forever');
    await waitFor(async () => ((await c.rows([...soon, forever])).length === 3 ? true : undefined), 'three rows');
    expect(Date.now()).toBeLessThan(expiresAt);
    // A read of one of them, kept in notification_read_events like any other.
    expect((await c.api('POST', `/v1/notifications/${soon[0]}/read`, dana)).status).toBe(202);
    await waitUntilProcessed(h);

    await untilPast(expiresAt);
    await waitFor(async () => ((await c.rows([...soon, forever])).length === 1 ? true : undefined), 'the cleanup to delete the expired rows');
    expect(await c.rows([...soon, forever])).toEqual([forever]);
    const kept = await h.tidings.pool.query('select 1 from notification_read_events where user_id = $1', [dana]);
    expect(kept.rowCount).toBe(1);

    const next = await c.emit(dana, 'next');
    await waitFor(async () => ((await c.rows([next])).length === 1 ? true : undefined), 'the next notification projected');
    expect((await c.api('GET', '/v1/notifications/unread-count', dana)).body.unread).toBe(2);
  });
});

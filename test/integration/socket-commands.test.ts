/**
 * The client side of the WebSocket protocol on the real stack: mark_read,
 * mark_all_read and archive sent over the socket and applied through
 * notification.reads like the REST routes; hostile frames; system_alert to
 * admins' sockets; and POST /v1/notifications/test through the pipeline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { NO_COMMANDS } from '../../src/websocket/commands.ts';
import { callApi, connectClient, type SocketClient, startHarness, waitFor, waitUntilProcessed, type Harness } from './harness.ts';

type Client = SocketClient;

describe('socket commands, admin alerts and test notifications', () => {
  let h: Harness;
  let producer: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    h = await startHarness({ TIDINGS_TEST_NOTIFICATION_PER_MINUTE: '5' });
    producer = await h.auth.sign({ userId: 'svc', roles: ['producer'] });
  });
  afterAll(async () => {
    for (const c of clients) c.socket.close();
    await h?.stop();
  });

  const token = (userId: string, roles: string[] = []) => h.auth.sign({ userId, roles });
  const connect = async (userId: string, roles: string[] = []) => {
    const client = await connectClient(h.tidings.wsUrl, await token(userId, roles));
    clients.push(client);
    return client;
  };
  async function emit(userId: string, type: string, title = type) {
    const { status, body } = await callApi(h, 'POST', '/v1/events', producer, { user_id: userId, type, title, message: title, source_type: 'test', source_id: randomUUID() });
    expect(status).toBe(202);
    return body.notification_ids[userId] as string;
  }
  const frameOf = (client: Client, match: (f: Record<string, unknown>) => boolean, what: string) =>
    waitFor(() => client.frames.find(match), what, 15_000);
  const unread = async (userId: string) => (await callApi(h, 'GET', '/v1/notifications/unread-count', await token(userId))).body.unread as number;
  const listed = async (userId: string, query = '') => (await callApi(h, 'GET', `/v1/notifications${query}`, await token(userId))).body.notifications as { id: string; read: boolean }[];
  /** Sends `frame` and waits for the next frame the client gets after it. */
  async function answer(client: Client, frame: string | Buffer) {
    const before = client.frames.length;
    client.socket.send(frame);
    // unread_count frames come whenever a count may have changed: not answers.
    return waitFor(() => client.frames.slice(before).find((f) => f.type !== 'unread_count'), `an answer to ${String(frame).slice(0, 60)}`, 15_000);
  }

  it('mark_read, archive and mark_all_read over the socket are acknowledged and applied as the REST routes apply them', async () => {
    const alice = `alice-${randomUUID()}`;
    const tab = await connect(alice);
    const ids = [await emit(alice, 'job_completed'), await emit(alice, 'job_completed'), await emit(alice, 'job_completed')];
    await waitUntilProcessed(h);
    expect(await unread(alice)).toBe(3);

    expect(await answer(tab, JSON.stringify({ type: 'mark_read', notification_id: ids[0] })))
      .toMatchObject({ type: 'mark_read', action: 'mark_read', notification_id: ids[0], at: expect.any(String) });
    await waitFor(async () => ((await unread(alice)) === 2 ? true : undefined), 'the unread count to drop to 2');
    expect((await listed(alice)).find((n) => n.id === ids[0])?.read).toBe(true);

    expect(await answer(tab, JSON.stringify({ type: 'archive', notification_id: ids[1] })))
      .toMatchObject({ type: 'mark_read', action: 'archive', notification_id: ids[1] });
    await waitFor(async () => ((await listed(alice, '?archived=true')).some((n) => n.id === ids[1]) ? true : undefined), 'the archived notification in the archive');
    expect((await listed(alice)).map((n) => n.id)).not.toContain(ids[1]);

    expect(await answer(tab, '{"type":"mark_all_read"}')).toMatchObject({ type: 'mark_read', action: 'mark_all_read', notification_id: null });
    await waitFor(async () => ((await unread(alice)) === 0 ? true : undefined), 'the unread count to drop to 0');
  });

  it('another user\'s notification id gets an error frame and changes nothing', async () => {
    const [mallory, bob] = [`mallory-${randomUUID()}`, `bob-${randomUUID()}`];
    const tab = await connect(mallory);
    const bobs = await emit(bob, 'job_failed');
    await waitUntilProcessed(h);
    for (const type of ['mark_read', 'archive']) {
      expect(await answer(tab, JSON.stringify({ type, notification_id: bobs }))).toEqual({ type: 'error', error: 'no such notification', command: type, notification_id: bobs });
    }
    // mallory's own read_all is applied after her refused commands would have been (same user key, same partition).
    expect(await answer(tab, '{"type":"mark_all_read"}')).toMatchObject({ type: 'mark_read' });
    await waitUntilProcessed(h);
    expect(await unread(bob)).toBe(1);
    expect((await listed(bob)).map((n) => [n.id, n.read])).toEqual([[bobs, false]]);
  });

  it('invalid frames get error frames and the socket still answers ping', async () => {
    const tab = await connect(`eve-${randomUUID()}`);
    const hostile: (string | Buffer)[] = [
      'not json', '[]', 'null', '{}', '{"type":"dance"}', '{"type":"mark_read"}', '{"type":"mark_read","notification_id":42}',
      '{"type":"archive","notification_id":"1\' or 1=1 --"}', Buffer.from([0xff, 0x00]), `{"type":"ping","pad":"${'x'.repeat(60_000)}"}`, '['.repeat(60_000),
    ];
    for (const frame of hostile) expect(await answer(tab, frame)).toMatchObject({ type: 'error', error: expect.any(String) });
    expect(await answer(tab, '{"type":"ping"}')).toMatchObject({ type: 'pong' });
    expect(tab.socket.readyState).toBe(tab.socket.OPEN);
  });

  it('a flood of commands gets an answer each, errors past the ones in flight, and the socket stays open', async () => {
    const tab = await connect(`flood-${randomUUID()}`);
    const before = tab.frames.length;
    for (let i = 0; i < 40; i++) tab.socket.send('{"type":"mark_all_read"}');
    const answersSoFar = () => tab.frames.slice(before).filter((f) => f.type !== 'unread_count');
    const answers = await waitFor(() => (answersSoFar().length >= 40 ? answersSoFar() : undefined), '40 answers');
    expect(answers.filter((f) => f.type === 'mark_read').length).toBeGreaterThanOrEqual(8);
    expect(answers.every((f) => f.type === 'mark_read' || (f.type === 'error' && f.command === 'mark_all_read'))).toBe(true);
    expect(await answer(tab, '{"type":"ping"}')).toMatchObject({ type: 'pong' });
  });

  it('an admin\'s sockets get a system_alert for another user\'s security event, a non-admin\'s do not', async () => {
    const [root, carol] = [`root-${randomUUID()}`, `carol-${randomUUID()}`];
    const adminTabs = [await connect(root, ['admin']), await connect(root, ['admin'])];
    const carolTab = await connect(carol);
    const id = await emit(carol, 'security_suspicious_login', 'Login from a new place');
    for (const tab of adminTabs) {
      expect(await frameOf(tab, (f) => f.type === 'system_alert', 'the admin alert')).toEqual({
        type: 'system_alert',
        alert: { notification_id: id, event_type: 'security_suspicious_login', severity: 'info', title: 'Login from a new place', message: 'Login from a new place',
          user_id: carol, source: { type: 'test', id: expect.any(String) }, occurred_at: expect.any(String) },
      });
    }
    // The alert is sent in the same step as carol's own frame: once she has that, she would have had the alert too.
    await frameOf(carolTab, (f) => f.type === 'notification', 'carol\'s notification');
    expect(carolTab.frames.filter((f) => f.type === 'system_alert')).toEqual([]);

    // An admin's own security event: the notification and the alert, once each per socket.
    const own = await emit(root, 'security_password_changed');
    for (const tab of adminTabs) {
      const alertFor = (f: Record<string, unknown>) => f.type === 'system_alert' && (f.alert as { notification_id: string }).notification_id === own;
      const notificationOf = (f: Record<string, unknown>) => f.type === 'notification' && (f.notification as { id: string }).id === own;
      await frameOf(tab, alertFor, 'the alert of root\'s own event');
      await frameOf(tab, notificationOf, 'root\'s own notification');
      expect([tab.frames.filter(alertFor).length, tab.frames.filter(notificationOf).length]).toEqual([1, 1]);
    }
  });

  it('POST /v1/notifications/test reaches the caller\'s socket; past the limit it answers 429 with Retry-After', async () => {
    const frank = `frank-${randomUUID()}`;
    const tab = await connect(frank);
    const frankToken = await token(frank);
    const first = await callApi(h, 'POST', '/v1/notifications/test', frankToken, { title: 'Hello from the test' });
    expect(first).toMatchObject({ status: 202, body: { status: 'accepted', event_id: expect.any(String), notification_id: expect.any(String) } });
    const frame = await frameOf(tab, (f) => f.type === 'notification', 'the test notification');
    expect(frame.notification).toMatchObject({ id: first.body.notification_id, type: 'system_test', category: 'system', title: 'Hello from the test' });

    for (let i = 2; i <= 5; i++) expect((await callApi(h, 'POST', '/v1/notifications/test', frankToken)).status).toBe(202);
    const response = await fetch(`${h.tidings.url}/v1/notifications/test`, { method: 'POST', headers: { authorization: `Bearer ${frankToken}` } });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    // The limit is per user: someone else still gets theirs.
    expect((await callApi(h, 'POST', '/v1/notifications/test', await token(`grace-${randomUUID()}`))).status).toBe(202);
  });
});

describe('socket commands on a gateway process without the api role', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness({ TIDINGS_ROLES: 'gateway' }); });
  afterAll(async () => h?.stop());

  it('carries commands out there too (a split deployment\'s sockets are on the gateway process)', async () => {
    const { socket, frames } = await connectClient(h.tidings.wsUrl, await h.auth.sign({ userId: `solo-${randomUUID()}`, roles: [] }));
    const unknown = randomUUID();
    socket.send(JSON.stringify({ type: 'mark_read', notification_id: unknown }));
    socket.send('{"type":"mark_all_read"}');
    socket.send('{"type":"ping"}');
    const answered = () => frames.slice(1).filter((f) => f.type !== 'unread_count');
    const answers = await waitFor(() => (answered().length >= 3 ? answered() : undefined), 'three answers');
    expect(answers.find((f) => f.type === 'error')).toMatchObject({ command: 'mark_read', notification_id: unknown });
    expect(answers.find((f) => f.type === 'error')?.error).not.toBe(NO_COMMANDS);
    expect(answers.find((f) => f.type === 'mark_read')).toMatchObject({ action: 'mark_all_read', notification_id: null });
    expect(answers.filter((f) => f.type === 'pong')).toHaveLength(1);
    socket.close();
  });
});

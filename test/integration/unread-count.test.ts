/**
 * unread_count frames on the real stack: a socket gets its user's count after
 * the connection frame, and every open tab of the user gets the new count when
 * a notification arrives, when one tab marks one read over the socket, and
 * when the REST API reads all or archives; the count sent is the one the
 * inbox API answers at that moment (the projector has applied the change).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { callApi, connectClient, type SocketClient, startHarness, waitFor, type Harness } from './harness.ts';

type Client = SocketClient;

describe('unread_count frames', () => {
  let h: Harness;
  let producer: string;
  const clients: Client[] = [];
  beforeAll(async () => {
    h = await startHarness();
    producer = await h.auth.sign({ userId: 'svc', roles: ['producer'] });
  });
  afterAll(async () => {
    for (const c of clients) c.socket.close();
    await h?.stop();
  });

  const counts = (c: Client) => c.frames.filter((f) => f.type === 'unread_count').map((f) => f.count as number);
  /** Waits until the client's latest unread_count is `n`. */
  const countBecomes = (c: Client, n: number, what: string) => waitFor(() => (counts(c).at(-1) === n ? true : undefined), what, 15_000);

  it('comes after the connection frame and to every tab whenever the count changes, from the socket or the REST API', async () => {
    const user = `tabs-${randomUUID()}`;
    const token = await h.auth.sign({ userId: user, roles: [] });
    const emit = async () => {
      const { status, body } = await callApi(h, 'POST', '/v1/events', producer, { user_id: user, type: 'job_completed', title: 't', message: 'm', source_type: 'test', source_id: randomUUID() });
      expect(status).toBe(202);
      return body.notification_ids[user] as string;
    };
    const first = await connectClient(h.tidings.wsUrl, token);
    clients.push(first);
    await countBecomes(first, 0, 'the count on connect');
    expect(first.frames.map((f) => f.type).slice(0, 2)).toEqual(['connection', 'unread_count']);

    const ids = [await emit(), await emit(), await emit()];
    await countBecomes(first, 3, 'three unread');
    const second = await connectClient(h.tidings.wsUrl, token);
    clients.push(second);
    await countBecomes(second, 3, 'the second tab\'s count on connect');

    // One tab marks one read over the socket: both tabs learn the new count.
    first.socket.send(JSON.stringify({ type: 'mark_read', notification_id: ids[0] }));
    await countBecomes(first, 2, 'the first tab at 2');
    await countBecomes(second, 2, 'the second tab at 2');
    expect((await callApi(h, 'GET', '/v1/notifications/unread-count', token)).body).toEqual({ unread: 2 });

    // The REST API archives one, then reads all.
    expect((await callApi(h, 'POST', `/v1/notifications/${ids[1]}/archive`, token)).status).toBe(202);
    await countBecomes(second, 1, 'the second tab at 1 after the archive');
    expect((await callApi(h, 'POST', '/v1/notifications/read-all', token)).status).toBe(202);
    await countBecomes(first, 0, 'the first tab at 0');
    await countBecomes(second, 0, 'the second tab at 0');
    // Every count a tab got was a count the user had: never above 3, never below 0, and it ends at the API's.
    for (const c of [first, second]) expect(counts(c).every((n) => n >= 0 && n <= 3)).toBe(true);
    expect((await callApi(h, 'GET', '/v1/notifications/unread-count', token)).body).toEqual({ unread: 0 });

    // A new notification after all that is counted again.
    await emit();
    await countBecomes(first, 1, 'the new one counted');
  });
});

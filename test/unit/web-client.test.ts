/**
 * The client's state machine over a scripted WebSocket (the protocol's frames
 * as the server sends them): resume URLs on reconnect, backoff reset after an
 * open, 4008 keeps backing off, duplicates dropped, commands as promises.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTidingsClient, type TidingsClientOptions } from '../../web/tidings-client.ts';

class ScriptedSocket {
  static opened: ScriptedSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  constructor(readonly url: string) { ScriptedSocket.opened.push(this); }
  send(data: string) { this.sent.push(data); }
  close(code = 1000) { this.drop(code); }
  accept() { this.readyState = 1; this.onopen?.({}); }
  frame(value: unknown) { this.onmessage?.({ data: JSON.stringify(value) }); }
  drop(code: number) { this.readyState = 3; this.onclose?.({ code }); }
}

const notification = (id: string, offset: string) => ({
  type: 'notification', position: { epoch: 'e', offset },
  notification: { id, type: 't', category: 'c', severity: 'info', title: id, message: id, data: {}, action_url: null, source: { type: 's', id }, occurred_at: '', created_at: '', read: false },
});
const last = () => ScriptedSocket.opened.at(-1)!;
const query = (socket: ScriptedSocket) => Object.fromEntries(new URL(socket.url).searchParams);

describe('tidings client', () => {
  beforeEach(() => { ScriptedSocket.opened = []; vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  const start = async (extra: Partial<TidingsClientOptions> = {}) => {
    const client = createTidingsClient({ url: 'ws://127.0.0.1:1/v1/ws', token: 'jwt', WebSocket: ScriptedSocket, random: () => 0.5, backoff: { initialMs: 100, maxMs: 1_000 }, ...extra });
    client.connect();
    await vi.advanceTimersByTimeAsync(0); // the token hook is awaited
    return client;
  };

  it('given a first connect, then it adopts the connection frame\'s position and resumes from the last notification after a drop', async () => {
    const client = await start();
    expect(query(last())).toEqual({ token: 'jwt' });
    last().accept();
    last().frame({ type: 'connection', user_id: 'u', server_time: '', position: { epoch: 'e', offset: '4' } });
    expect(client.position).toEqual({ epoch: 'e', offset: '4' });
    last().frame(notification('a', '7'));
    last().drop(1001);
    expect(client.status).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(50); // 0.5 * 100 ms
    expect(ScriptedSocket.opened).toHaveLength(2);
    expect(query(last())).toEqual({ token: 'jwt', epoch: 'e', offset: '7' });
  });

  it('calls the token hook before every connect', async () => {
    let n = 0;
    await start({ token: async () => `jwt-${++n}` });
    last().accept();
    last().drop(1006);
    await vi.advanceTimersByTimeAsync(50);
    expect(ScriptedSocket.opened.map((s) => query(s).token)).toEqual(['jwt-1', 'jwt-2']);
  });

  it('given failed attempts, then the delays grow; after an open they start over', async () => {
    const client = await start();
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      const before = ScriptedSocket.opened.length;
      last().drop(1006); // never opened
      let waited = 0;
      while (ScriptedSocket.opened.length === before) { await vi.advanceTimersByTimeAsync(10); waited += 10; }
      delays.push(waited);
    }
    expect(delays).toEqual([50, 100, 200]);
    last().accept();
    expect(client.status).toBe('open');
    last().drop(1001);
    await vi.advanceTimersByTimeAsync(50);
    expect(ScriptedSocket.opened).toHaveLength(5);
  });

  it('given close code 4008 (too many sockets), then the backoff keeps growing even though the socket had opened', async () => {
    await start();
    last().accept();
    last().drop(4008);
    await vi.advanceTimersByTimeAsync(50);
    expect(ScriptedSocket.opened).toHaveLength(2);
    last().accept();
    last().drop(4008);
    await vi.advanceTimersByTimeAsync(99);
    expect(ScriptedSocket.opened).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(ScriptedSocket.opened).toHaveLength(3);
  });

  it('drops a notification frame it already has, by id and by offset', async () => {
    const client = await start();
    const got: string[] = [];
    client.on('notification', (f) => got.push(f.notification.id));
    last().accept();
    for (const f of [notification('a', '1'), notification('b', '2'), notification('a', '3'), notification('c', '2'), notification('d', '3')]) last().frame(f);
    expect(got).toEqual(['a', 'b', 'd']);
    expect(client.droppedDuplicates).toBe(2);
  });

  it('given resync, then it emits it and resumes from the resync position next time', async () => {
    const client = await start({ position: { epoch: 'old', offset: '9' } });
    expect(query(last())).toEqual({ token: 'jwt', epoch: 'old', offset: '9' });
    const resyncs: string[] = [];
    client.on('resync', (r) => resyncs.push(r.reason));
    last().accept();
    last().frame({ type: 'resync', reason: 'another epoch', position: { epoch: 'new', offset: '3' } });
    expect([resyncs, client.position]).toEqual([['another epoch'], { epoch: 'new', offset: '3' }]);
  });

  it('keeps the unread count and settles commands by their ack or error; closing rejects what waits', async () => {
    const client = await start();
    await expect(client.markRead('a')).rejects.toThrow('not connected');
    last().accept();
    last().frame({ type: 'unread_count', count: 3 });
    expect(client.unreadCount).toBe(3);
    const read = client.markRead('a');
    const archive = client.archive('b');
    const all = client.markAllRead();
    expect(last().sent.map((s) => JSON.parse(s))).toEqual([
      { type: 'mark_read', notification_id: 'a' }, { type: 'archive', notification_id: 'b' }, { type: 'mark_all_read' }]);
    last().frame({ type: 'mark_read', action: 'mark_read', notification_id: 'a', at: 'now' });
    last().frame({ type: 'error', error: 'no such notification', command: 'archive', notification_id: 'b' });
    await expect(read).resolves.toMatchObject({ action: 'mark_read' });
    await expect(archive).rejects.toThrow('no such notification');
    client.close();
    await expect(all).rejects.toThrow('client closed');
    expect(client.status).toBe('closed');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(ScriptedSocket.opened).toHaveLength(1);
  });
});

import { describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { resumePosition } from '../../src/websocket/server.ts';
import { createConnections } from '../../src/websocket/connections.ts';
import { createInboxStreams, epochOf } from '../../src/websocket/streams.ts';
import { partitionOfKey } from '../../src/kafka/client.ts';
import type { NotificationFrame } from '../../src/websocket/protocol.ts';

describe('the resume position of a socket\'s query', () => {
  const of = (query: string) => resumePosition(new URLSearchParams(query));

  it('given neither parameter, then there is nothing to resume', () => {
    expect(of('token=x')).toBeUndefined();
  });

  it('given both, then the position; -1 is before the first record', () => {
    expect(of('epoch=Ab-_09&offset=42')).toEqual({ epoch: 'Ab-_09', offset: '42' });
    expect(of('epoch=e&offset=-1')).toEqual({ epoch: 'e', offset: '-1' });
    expect(of('epoch=e&offset=9223372036854775807')).toEqual({ epoch: 'e', offset: '9223372036854775807' });
  });

  it('given one without the other, or values no server sent, then a reason', () => {
    expect(of('epoch=e')).toMatch(/go together/);
    expect(of('offset=1')).toMatch(/go together/);
    for (const offset of ['', '-2', '01', '1.5', '1e3', '9223372036854775808', ' 1']) expect(of(`epoch=e&offset=${encodeURIComponent(offset)}`)).toMatch(/^offset must be/);
    for (const epoch of ['', 'a b', 'é', 'x'.repeat(65)]) expect(of(`epoch=${encodeURIComponent(epoch)}&offset=1`)).toMatch(/^epoch must be/);
  });
});

describe('inbox streams', () => {
  const streams = createInboxStreams({ clusterId: 'c1', topic: 'notification.inbox', startAt: [{ partition: 0, offset: '10' }, { partition: 1, offset: '0' }] });

  it('given a user, then the stream is their key\'s partition, and the position is before the next offset to push', () => {
    const partition = partitionOfKey('alice', 2);
    expect(streams.partitionOf('alice')).toBe(partition);
    expect(streams.current('alice')).toEqual({ epoch: epochOf('c1', 'notification.inbox', 2, partition), offset: partition === 0 ? '9' : '-1' });
  });

  it('given pushes, then the next offset only moves forward', () => {
    streams.advance(0, '15');
    streams.advance(0, '12');
    expect(streams.next(0)).toBe(15n);
  });

  it('given another cluster, topic, partition count or partition, then another epoch', () => {
    const base = epochOf('c1', 't', 6, 0);
    expect(base).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(new Set([base, epochOf('c2', 't', 6, 0), epochOf('c1', 'u', 6, 0), epochOf('c1', 't', 12, 0), epochOf('c1', 't', 6, 1)]).size).toBe(5);
    expect(epochOf('c1', 't', 6, 0)).toBe(base);
  });
});

describe('held notification frames of a resuming socket', () => {
  const fake = () => {
    const socket = { OPEN: 1, readyState: 1, bufferedAmount: 0, sent: [] as string[],
      send(text: string) { socket.sent.push(text); }, close() { socket.readyState = 3; }, terminate() { socket.readyState = 3; } };
    return socket;
  };
  const frame = (offset: number): NotificationFrame => ({ type: 'notification', notification: { id: `n${offset}` } as NotificationFrame['notification'], position: { epoch: 'e', offset: String(offset) } });
  const offsets = (socket: ReturnType<typeof fake>) => socket.sent.map((t) => (JSON.parse(t) as NotificationFrame).position?.offset ?? (JSON.parse(t) as { type: string }).type);

  it('given a hold, then notification frames wait for release, other frames do not, and release sends those after the offset in order', () => {
    const connections = createConnections({ perUser: 5, maxBufferedBytes: 1_000_000 });
    const [resuming, other] = [fake(), fake()];
    connections.add('u', resuming as unknown as WebSocket);
    connections.add('u', other as unknown as WebSocket);
    connections.hold(resuming as unknown as WebSocket, 10);
    for (const offset of [5, 6, 7]) connections.send('u', frame(offset));
    connections.send('u', { type: 'unread_count', count: 3 });
    expect(offsets(resuming)).toEqual(['unread_count']);
    expect(offsets(other)).toEqual(['5', '6', '7', 'unread_count']);
    expect(connections.held(resuming as unknown as WebSocket)).toEqual({ overflowed: false, last: 7n });
    connections.release('u', resuming as unknown as WebSocket, 5n);
    expect(offsets(resuming)).toEqual(['unread_count', '6', '7']);
    connections.send('u', frame(8));
    expect(offsets(resuming)).toEqual(['unread_count', '6', '7', '8']);
  });

  it('given more frames than the limit, then the hold overflows, keeps none and remembers the last offset', () => {
    const connections = createConnections({ perUser: 5, maxBufferedBytes: 1_000_000 });
    const socket = fake();
    connections.add('u', socket as unknown as WebSocket);
    connections.hold(socket as unknown as WebSocket, 2);
    for (const offset of [1, 2, 3, 4]) connections.send('u', frame(offset));
    expect(connections.held(socket as unknown as WebSocket)).toEqual({ overflowed: true, last: 4n });
    connections.release('u', socket as unknown as WebSocket, 0n);
    expect(socket.sent).toEqual([]);
  });

  it('given the socket closes while held, then its hold goes with it', () => {
    const connections = createConnections({ perUser: 5, maxBufferedBytes: 1_000_000 });
    const socket = fake();
    connections.add('u', socket as unknown as WebSocket);
    connections.hold(socket as unknown as WebSocket, 2);
    connections.send('u', frame(1));
    connections.remove('u', socket as unknown as WebSocket);
    expect(connections.held(socket as unknown as WebSocket)).toEqual({ overflowed: false, last: undefined });
  });
});

describe('the per-user cap', () => {
  it('given a cap of one socket, when a second opens, then the first is closed with 4008 and the new one gets the frames (it was lost before)', () => {
    const connections = createConnections({ perUser: 1, maxBufferedBytes: 1_000_000 });
    const socket = () => {
      const s = { OPEN: 1, readyState: 1, bufferedAmount: 0, sent: [] as string[], closedWith: undefined as number | undefined,
        send(text: string) { s.sent.push(text); }, close(code: number) { s.closedWith = code; s.readyState = 3; }, terminate() { s.readyState = 3; } };
      return s;
    };
    const [first, second] = [socket(), socket()];
    connections.add('u', first as unknown as WebSocket);
    connections.add('u', second as unknown as WebSocket);
    expect(first.closedWith).toBe(4008);
    expect(connections.has('u')).toBe(true);
    expect(connections.count()).toEqual({ sockets: 1, users: 1 });
    expect(connections.send('u', { type: 'unread_count', count: 1 })).toBe(1);
    expect(second.sent).toHaveLength(1);
  });
});

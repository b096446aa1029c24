import { describe, expect, it } from 'vitest';
import { handleClientFrame, MAX_CLIENT_FRAME, parseClientFrame } from '../../src/websocket/client-frames.ts';
import { createCommandRunner, NO_COMMANDS } from '../../src/websocket/commands.ts';
import { createLogger } from '../../src/logger.ts';
import { createConnections } from '../../src/websocket/connections.ts';
import type { SystemAlertFrame } from '../../src/websocket/protocol.ts';
import type { WebSocket } from 'ws';

const ID = '0b6f1c1e-3d4a-5b6c-9d8e-7f6a5b4c3d2e';
const errorOf = (text: string | null) => {
  const parsed = parseClientFrame(text);
  return 'error' in parsed ? parsed.error : undefined;
};

describe('inbox commands over the socket', () => {
  it('given mark_read or archive with a notification id, then it is a command for that id', () => {
    expect(handleClientFrame(JSON.stringify({ type: 'mark_read', notification_id: ID }), 0)).toEqual({ kind: 'command', command: { type: 'mark_read', notification_id: ID } });
    expect(handleClientFrame(JSON.stringify({ type: 'archive', notification_id: ID.toUpperCase() }), 0)).toEqual({ kind: 'command', command: { type: 'archive', notification_id: ID } });
  });

  it('given mark_all_read, then it is a command without an id, extra fields ignored', () => {
    expect(handleClientFrame('{"type":"mark_all_read","notification_id":"x"}', 0)).toEqual({ kind: 'command', command: { type: 'mark_all_read' } });
  });

  it('given a missing, non-string or non-UUID notification id, then an error frame naming the command', () => {
    for (const id of [undefined, null, 42, ['x'], { a: 1 }, '', 'not-a-uuid', `${ID}x`, `urn:uuid:${ID}`, "' or 1=1 --"]) {
      for (const type of ['mark_read', 'archive'] as const) {
        expect(errorOf(JSON.stringify({ type, notification_id: id }))).toEqual({ type: 'error', error: 'notification_id must be a notification id (a UUID)', command: type });
      }
    }
  });

  it('given JSON that is not an object, or an object without a known type, then an error frame', () => {
    expect(errorOf('[]')).toEqual({ type: 'error', error: 'frames must be JSON objects' });
    expect(errorOf('null')).toEqual({ type: 'error', error: 'frames must be JSON objects' });
    expect(errorOf('"ping"')).toEqual({ type: 'error', error: 'frames must be JSON objects' });
    expect(errorOf('{}')).toEqual({ type: 'error', error: 'unknown frame type undefined' });
    expect(errorOf('{"type":7}')).toEqual({ type: 'error', error: 'unknown frame type number' });
    expect(errorOf('{"__proto__":{"type":"ping"}}')).toEqual({ type: 'error', error: 'unknown frame type undefined' });
    expect(errorOf(JSON.stringify({ type: 'x'.repeat(1_000) }))?.error).toHaveLength('unknown frame type ""'.length + 100);
  });

  it('given a frame longer than the limit, then an error frame without parsing it', () => {
    expect(errorOf(`{"type":"ping","pad":"${'x'.repeat(MAX_CLIENT_FRAME)}"}`)).toEqual({ type: 'error', error: `frames may have at most ${MAX_CLIENT_FRAME} characters` });
    expect(errorOf('['.repeat(MAX_CLIENT_FRAME))).toEqual({ type: 'error', error: 'frames must be JSON' });
  });

  it('given a server without the api role\'s dependencies, then every command is answered with an error frame', async () => {
    const runner = createCommandRunner(undefined, createLogger('silent'));
    expect(await runner.run('u1', { type: 'mark_read', notification_id: ID }, 0)).toEqual({ type: 'error', error: NO_COMMANDS, command: 'mark_read', notification_id: ID });
    expect(await runner.run('u1', { type: 'mark_all_read' }, 0)).toEqual({ type: 'error', error: NO_COMMANDS, command: 'mark_all_read' });
  });
});

describe('connections by role', () => {
  const fake = () => {
    const socket = { OPEN: 1, readyState: 1, bufferedAmount: 0, sent: [] as string[],
      send(text: string) { socket.sent.push(text); }, close() { socket.readyState = 3; }, terminate() { socket.readyState = 3; } };
    return socket;
  };
  const alert = { type: 'system_alert' } as SystemAlertFrame;

  it('given admin and other sockets, then a role frame reaches each admin socket once, and none after it closed', () => {
    const connections = createConnections({ perUser: 5, maxBufferedBytes: 1_000 });
    const [adminTab1, adminTab2, user, producer] = [fake(), fake(), fake(), fake()];
    connections.add('root', adminTab1 as unknown as WebSocket, ['admin', 'admin']);
    connections.add('root', adminTab2 as unknown as WebSocket, ['admin', 'producer']);
    connections.add('alice', user as unknown as WebSocket);
    connections.add('svc', producer as unknown as WebSocket, ['producer']);
    expect(connections.sendToRole('admin', alert)).toBe(2);
    expect([adminTab1.sent.length, adminTab2.sent.length, user.sent.length, producer.sent.length]).toEqual([1, 1, 0, 0]);
    connections.remove('root', adminTab1 as unknown as WebSocket);
    expect(connections.sendToRole('admin', alert)).toBe(1);
    connections.remove('root', adminTab2 as unknown as WebSocket);
    expect(connections.sendToRole('admin', alert)).toBe(0);
    expect(connections.sendToRole('nobody', alert)).toBe(0);
  });
});

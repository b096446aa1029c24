import { describe, expect, it } from 'vitest';
import { handleClientFrame } from '../../src/websocket/server.ts';
import { decideGateway } from '../../src/processors/gateway/decide.ts';
import type { Notification } from '../../src/model/notification.ts';

describe('client frames', () => {
  it('answers ping with pong', () => {
    expect(handleClientFrame('{"type":"ping"}')).toMatchObject({ type: 'pong' });
  });

  it('answers what it cannot read with an error frame', () => {
    expect(handleClientFrame('not json')).toEqual({ type: 'error', error: 'frames must be JSON' });
    expect(handleClientFrame(null)).toEqual({ type: 'error', error: 'binary frames are not supported' });
    expect(handleClientFrame('{"type":"dance"}')).toEqual({ type: 'error', error: 'unknown frame type "dance"' });
  });
});

describe('decideGateway', () => {
  it('given an accepted notification, then its recipient gets a notification frame with parsed data and ISO times', () => {
    const n: Notification = {
      id: 'n1', user_id: 'u1', type: 'agent_offline', category: 'agent', severity: 'warning', title: 'Agent offline', message: 'gpu-3 went away',
      data: '{"agent":"gpu-3"}', action_url: null, source_type: 'agent', source_id: 'gpu-3', source_key: 'agent:gpu-3:agent_offline:u1', event_id: null,
      occurred_at: Date.UTC(2026, 0, 1), created_at: Date.UTC(2026, 0, 1, 0, 0, 1),
    };
    expect(decideGateway(n)).toEqual([{
      kind: 'push',
      userId: 'u1',
      frame: {
        type: 'notification',
        notification: {
          id: 'n1', type: 'agent_offline', category: 'agent', severity: 'warning', title: 'Agent offline', message: 'gpu-3 went away',
          data: { agent: 'gpu-3' }, action_url: null, source: { type: 'agent', id: 'gpu-3' },
          occurred_at: '2026-01-01T00:00:00.000Z', created_at: '2026-01-01T00:00:01.000Z', read: false,
        },
      },
    }]);
  });
});

import { describe, expect, it } from 'vitest';
import { handleClientFrame } from '../../src/websocket/client-frames.ts';
import { decideRead, decideGateway } from '../../src/processors/gateway/decide.ts';
import type { Notification } from '../../src/model/notification.ts';

describe('client frames', () => {
  it('answers ping with pong', () => {
    expect(handleClientFrame('{"type":"ping"}', Date.UTC(2026, 0, 1))).toEqual({ kind: 'reply', frame: { type: 'pong', server_time: '2026-01-01T00:00:00.000Z' } });
  });

  it('answers what it cannot read with an error frame', () => {
    const reply = (text: string | null) => handleClientFrame(text, 0);
    expect(reply('not json')).toEqual({ kind: 'reply', frame: { type: 'error', error: 'frames must be JSON' } });
    expect(reply(null)).toEqual({ kind: 'reply', frame: { type: 'error', error: 'binary frames are not supported' } });
    expect(reply('{"type":"dance"}')).toEqual({ kind: 'reply', frame: { type: 'error', error: 'unknown frame type "dance"' } });
  });
});

describe('decideGateway', () => {
  const base: Notification = {
    id: 'n3', user_id: 'u3', type: 'job_completed', category: 'job', severity: 'info', title: 'Done', message: 'Job 7',
    data: '{}', action_url: null, source_type: 'job', source_id: '7', source_key: 'job:7:job_completed:u3', event_id: null,
    occurred_at: Date.UTC(2026, 0, 1), created_at: Date.UTC(2026, 0, 1, 0, 0, 1), expires_at: null,
  };

  it('given a security notification, then its recipient gets the notification and admins\' sockets a system_alert', () => {
    const n: Notification = {
      id: 'n2', user_id: 'u2', type: 'security_suspicious_login', category: 'security', severity: 'warning', title: 'New login', message: 'From 203.0.113.9',
      data: '{}', action_url: null, source_type: 'login', source_id: 'l1', source_key: 'login:l1:security_suspicious_login:u2', event_id: null,
      occurred_at: Date.UTC(2026, 0, 1), created_at: Date.UTC(2026, 0, 1, 0, 0, 1),
    };
    const outputs = decideGateway(n, { now: n.created_at });
    expect(outputs.map((o) => o.kind)).toEqual(['push', 'count', 'alert']);
    expect(outputs[2]).toEqual({
      kind: 'alert', role: 'admin',
      frame: { type: 'system_alert', alert: {
        notification_id: 'n2', event_type: 'security_suspicious_login', severity: 'warning', title: 'New login', message: 'From 203.0.113.9',
        user_id: 'u2', source: { type: 'login', id: 'l1' }, occurred_at: '2026-01-01T00:00:00.000Z',
      } },
    });
  });

  it('given an accepted notification, then its recipient gets a notification frame with parsed data and ISO times', () => {
    const n: Notification = {
      id: 'n1', user_id: 'u1', type: 'agent_offline', category: 'agent', severity: 'warning', title: 'Agent offline', message: 'gpu-3 went away',
      data: '{"agent":"gpu-3"}', action_url: null, source_type: 'agent', source_id: 'gpu-3', source_key: 'agent:gpu-3:agent_offline:u1', event_id: null,
      occurred_at: Date.UTC(2026, 0, 1), created_at: Date.UTC(2026, 0, 1, 0, 0, 1),
    };
    expect(decideGateway(n, { now: n.created_at })).toEqual([{
      kind: 'push',
      userId: 'u1',
      frame: {
        type: 'notification',
        notification: {
          id: 'n1', type: 'agent_offline', category: 'agent', severity: 'warning', title: 'Agent offline', message: 'gpu-3 went away',
          data: { agent: 'gpu-3' }, action_url: null, source: { type: 'agent', id: 'gpu-3' },
          occurred_at: '2026-01-01T00:00:00.000Z', created_at: '2026-01-01T00:00:01.000Z', read: false, expires_at: null,
        },
      },
    }, { kind: 'count', userId: 'u1' }]);
  });

  it('given a notification that expires later, then it is pushed as any other, its frame saying when it expires', () => {
    const n = { ...base, expires_at: Date.UTC(2026, 0, 2) };
    const outputs = decideGateway(n, { now: Date.UTC(2026, 0, 2) - 1 });
    expect(outputs.map((o) => o.kind)).toEqual(['push', 'count']);
    expect(outputs[0]?.kind === 'push' && outputs[0].frame.notification.expires_at).toBe('2026-01-02T00:00:00.000Z');
  });

  it('given a notification already expired when read, then nothing is pushed, alerted or counted', () => {
    const n = { ...base, category: 'security', expires_at: Date.UTC(2026, 0, 2) };
    expect(decideGateway(n, { now: Date.UTC(2026, 0, 2) })).toEqual([]);
    expect(decideGateway(n, { now: Date.UTC(2026, 0, 3) })).toEqual([]);
  });

  it('given a read event, then the user\'s unread count is sent again', () => {
    expect(decideRead({ user_id: 'u1', action: 'read_all', notification_id: null, before: 1, at: 2 })).toEqual([{ kind: 'count', userId: 'u1' }]);
  });
});

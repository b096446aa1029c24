/**
 * Scale-out on one machine: two `tidings start` processes on one topic prefix
 * and database, split by role, work as one Tidings. The first takes events
 * and serves the REST API; the second runs the processors and the gateway,
 * whose WebSocket is on its own HTTP server.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createAuthenticator } from '../../src/auth.ts';
import { connectClient, isolatedSettings } from './harness.ts';
import { startTidingsProcess, type TidingsProcess } from './tidings-process.ts';

describe('roles split over two processes', () => {
  const children: TidingsProcess[] = [];
  afterAll(() => { for (const c of children) c.kill(); });

  it('an event posted to the api,ingest process reaches the WebSocket of the dedupe,router,projector,gateway process and the inbox API of the first', async () => {
    const { id, env } = await isolatedSettings({ LOG_LEVEL: 'warn' });
    // One after the other: on a fresh database and prefix, two processes starting at the same
    // moment both migrate and register the schemas, and today the second of them fails at that.
    const back = await startTidingsProcess({ ...env, TIDINGS_ROLES: 'dedupe,router,projector,gateway', TIDINGS_INSTANCE_ID: `${id}-back` });
    children.push(back);
    const front = await startTidingsProcess({ ...env, TIDINGS_ROLES: 'api,ingest', TIDINGS_INSTANCE_ID: `${id}-front` });
    children.push(front);
    // Each banner names what its process serves.
    expect(front.stdout()).toContain('ingest            POST');
    expect(front.stdout()).not.toContain('websocket');
    expect(back.stdout()).toContain('websocket');
    expect(back.stdout()).not.toContain('ingest            POST');

    const auth = createAuthenticator({ secret: env.TIDINGS_JWT_SECRET! });
    const user = `split-${randomUUID()}`;
    const userToken = await auth.sign({ userId: user, roles: [] });
    const client = await connectClient(`${back.url.replace('http', 'ws')}/v1/ws`, userToken);

    const sourceId = randomUUID();
    const posted = await fetch(`${front.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await auth.sign({ userId: 'billing', roles: ['producer'] })}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: user, type: 'job_completed', title: 'Job done', message: 'All 3 tasks finished', source_type: 'job', source_id: sourceId }),
    });
    expect(posted.status).toBe(202);
    const { notification_ids: ids } = (await posted.json()) as { notification_ids: Record<string, string> };

    const frame = await back.waitFor(() => client.frames.find((f) => f.type === 'notification'), 'the notification frame on the gateway process');
    expect(frame).toMatchObject({ notification: { id: ids[user], title: 'Job done', source: { type: 'job', id: sourceId } } });

    const inbox = await front.waitFor(async () => {
      const response = await fetch(`${front.url}/v1/notifications`, { headers: { authorization: `Bearer ${userToken}` } });
      const body = (await response.json()) as { notifications: { id: string; title: string }[] };
      return body.notifications.length > 0 ? body.notifications : undefined;
    }, 'the notification in the inbox API of the api process');
    expect(inbox).toEqual([expect.objectContaining({ id: ids[user], title: 'Job done' })]);
    client.socket.close();

    expect(await Promise.all([front.stop(), back.stop()])).toEqual([0, 0]);
    children.length = 0;
  }, 240_000);
});

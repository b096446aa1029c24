/**
 * The README's run command as a user runs it: `tidings start` in its own
 * process, on the local stack, then a clean stop on SIGTERM.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { isolatedSettings, connectClient, waitFor } from './harness.ts';
import { startTidingsProcess, type TidingsProcess } from './tidings-process.ts';

describe('tidings start', () => {
  let child: TidingsProcess | undefined;
  afterAll(() => { child?.kill(); });

  it('brings Tidings up, answers /health with 200, delivers a posted event to a WebSocket, and stops cleanly', async () => {
    const { env } = await isolatedSettings();
    // Only the isolation settings: the services come from the local stack, as for a newcomer.
    child = await startTidingsProcess({ TIDINGS_TOPIC_PREFIX: env.TIDINGS_TOPIC_PREFIX!, DATABASE_URL: env.DATABASE_URL!, TIDINGS_HTTP_PORT: '0', TIDINGS_PARTITIONS: '2', LOG_LEVEL: 'warn' });
    const { url } = child;
    const token = await child.waitFor(() => /export TOKEN=(\S+)/.exec(child?.stdout() ?? '')?.[1], 'the printed token');
    expect(child.stdout()).toContain(`websocket         ${url.replace('http', 'ws')}/v1/ws?token=<jwt>`);
    expect(child.stdout()).toMatch(/^local stack:$/m);

    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);

    const client = await connectClient(`${url.replace('http', 'ws')}/v1/ws`, token);
    const sourceId = randomUUID();
    const posted = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: 'demo-user', type: 'job_completed', title: 'Job done', message: 'All 3 tasks finished', source_type: 'job', source_id: sourceId }),
    });
    expect(posted.status).toBe(202);
    const frame = await child.waitFor(() => client.frames.find((f) => f.type === 'notification'), 'the notification frame');
    expect(frame).toMatchObject({ notification: { title: 'Job done', source: { type: 'job', id: sourceId } } });

    let closedCode: number | undefined;
    client.socket.once('close', (code) => { closedCode = code; });
    const stopping = child.stop();
    // Not child.waitFor: the process may be gone by the time the close frame is seen.
    expect(await waitFor(() => closedCode, 'the socket to close', 30_000)).toBe(1001);
    expect(await stopping).toBe(0);
    child = undefined;
  }, 180_000);
});

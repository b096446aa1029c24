/**
 * The README's run command as a user runs it: `tidings start` in its own
 * process, on the local stack, then a clean stop on SIGTERM.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { isolatedSettings, waitFor, connectClient } from './harness.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('tidings start', () => {
  let child: ChildProcess | undefined;
  afterAll(() => { child?.kill('SIGKILL'); });

  it('brings Tidings up, answers /health with 200, delivers a posted event to a WebSocket, and stops cleanly', async () => {
    const { env } = await isolatedSettings();
    // Only the isolation settings: the services come from the local stack, as for a newcomer.
    const startEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TIDINGS_TOPIC_PREFIX: env.TIDINGS_TOPIC_PREFIX!, DATABASE_URL: env.DATABASE_URL!, TIDINGS_HTTP_PORT: '0', TIDINGS_PARTITIONS: '2', LOG_LEVEL: 'warn' };
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'start'], { cwd: root, env: startEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => { stdout += chunk.toString(); output += chunk.toString(); });
    child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    let exitCode: number | null | undefined;
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => { exitCode = code; resolve(code); }));
    // Every wait ends early, with what the process printed, if it is gone or too slow.
    const running = <T>(probe: () => T | undefined) => () => {
      if (exitCode !== undefined) throw new Error(`tidings start exited with ${exitCode}:\n${output.slice(-4_000)}`);
      return probe();
    };
    const explained = async <T>(wait: Promise<T>): Promise<T> => {
      try {
        return await wait;
      } catch (err) {
        throw new Error(`${(err as Error).message}\n--- tidings start printed:\n${output.slice(-4_000)}`, { cause: err });
      }
    };

    const url = await explained(waitFor(running(() => /Tidings is running at (http:\/\/\S+)/.exec(stdout)?.[1]), 'the start banner', 90_000));
    const token = await explained(waitFor(running(() => /export TOKEN=(\S+)/.exec(stdout)?.[1]), 'the printed token'));
    expect(stdout).toContain(`websocket         ${url.replace('http', 'ws')}/v1/ws?token=<jwt>`);

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
    const frame = await explained(waitFor(running(() => client.frames.find((f) => f.type === 'notification')), 'the notification frame'));
    expect(frame).toMatchObject({ notification: { title: 'Job done', source: { type: 'job', id: sourceId } } });

    let closedCode: number | undefined;
    client.socket.once('close', (code) => { closedCode = code; });
    child.kill('SIGTERM');
    expect(await explained(waitFor(() => closedCode, 'the socket to close', 30_000))).toBe(1001);
    expect(await explained(waitFor(() => exitCode, 'the process to exit', 40_000))).toBe(0);
    await exited;
    child = undefined;
  }, 180_000);
});

/**
 * Production configuration never touches the local stack: with every service
 * URL and both secrets set, `tidings` loads no file of src/stack (forbid-stack.mjs
 * makes such a load fail the process), writes nothing to the stack or cache
 * folder, and runs; with a secret missing it refuses to start (exit 78).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createAuthenticator } from '../../src/auth.ts';
import { connectClient, isolatedSettings } from './harness.ts';
import { runTidings, startTidingsProcess, type TidingsProcess } from './tidings-process.ts';

/** Isolated settings naming every service and both secrets, with empty stack and cache folders. */
async function productionSettings(): Promise<{ env: Record<string, string>; folders: string[] }> {
  const stackDir = await mkdtemp(join(tmpdir(), 'tidings-stack-'));
  const cacheDir = await mkdtemp(join(tmpdir(), 'tidings-cache-'));
  const { env } = await isolatedSettings({ TIDINGS_STACK_DIR: stackDir, TIDINGS_CACHE_DIR: cacheDir, LOG_LEVEL: 'warn' });
  return { env, folders: [stackDir, cacheDir] };
}

async function contents(folders: string[]): Promise<string[]> {
  return (await Promise.all(folders.map((f) => readdir(f)))).flat();
}

describe('production configuration', () => {
  let child: TidingsProcess | undefined;
  afterAll(() => { child?.kill(); });

  it('with every service and both secrets set, start loads nothing of src/stack, writes nothing to its folders, and delivers an event', async () => {
    const { env, folders } = await productionSettings();
    child = await startTidingsProcess(env, { forbidStack: true });
    // A deployment's banner names no local stack and prints no token.
    expect(child.stdout()).not.toMatch(/local stack|export TOKEN=|stack down/);
    expect((await fetch(`${child.url}/health/ready`)).status).toBe(200);

    const auth = createAuthenticator({ secret: env.TIDINGS_JWT_SECRET! });
    const user = `prod-${randomUUID()}`;
    const client = await connectClient(`${child.url.replace('http', 'ws')}/v1/ws`, await auth.sign({ userId: user, roles: [] }));
    const posted = await fetch(`${child.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await auth.sign({ userId: 'billing', roles: ['producer'] })}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: user, type: 'job_completed', title: 'Job done', message: 'All 3 tasks finished', source_type: 'job', source_id: randomUUID() }),
    });
    expect(posted.status).toBe(202);
    expect(await child.waitFor(() => client.frames.find((f) => f.type === 'notification'), 'the notification frame')).toMatchObject({ notification: { title: 'Job done' } });
    client.socket.close();

    expect(await child.stop()).toBe(0);
    child = undefined;
    expect(await contents(folders)).toEqual([]);
  }, 180_000);

  it('with every service set and a secret missing, start exits 78 naming every problem, and writes nothing', async () => {
    const { env, folders } = await productionSettings();
    const { TIDINGS_SECRET_KEY: _key, ...withoutKey } = env;
    const one = await runTidings(['start'], withoutKey, { forbidStack: true });
    expect(one.code).toBe(78);
    expect(one.stderr).toContain('- TIDINGS_SECRET_KEY must be set when KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DATABASE_URL and SMTP_URL are');
    expect(one.stderr).not.toContain('TIDINGS_JWT_SECRET');

    const { TIDINGS_JWT_SECRET: _secret, ...withoutEither } = withoutKey;
    const all = await runTidings(['start'], { ...withoutEither, TIDINGS_HTTP_PORT: 'eighty' }, { forbidStack: true });
    expect(all.code).toBe(78);
    for (const name of ['TIDINGS_HTTP_PORT', 'TIDINGS_JWT_SECRET', 'TIDINGS_SECRET_KEY']) expect(all.stderr).toContain(`- ${name} `);
    expect(await contents(folders)).toEqual([]);
  });

  it('`token` with every service set signs with the configured secret and loads nothing of src/stack', async () => {
    const { env, folders } = await productionSettings();
    const result = await runTidings(['token', 'u1', 'producer'], env, { forbidStack: true });
    expect(result.code).toBe(0);
    expect(await createAuthenticator({ secret: env.TIDINGS_JWT_SECRET! }).verify(result.stdout.trim())).toMatchObject({ userId: 'u1', roles: ['producer'] });
    expect(await contents(folders)).toEqual([]);
  });

  it('forbid-stack.mjs fails a process that loads src/stack, so the tests above can fail', async () => {
    const { env } = await productionSettings();
    const result = await runTidings(['stack', 'status'], env, { forbidStack: true });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('src/stack/stack.ts loaded from');
  });
});

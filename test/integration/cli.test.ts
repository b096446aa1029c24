/** The `tidings` command as a user runs it: a child process with its own environment. */
import { describe, expect, inject, it } from 'vitest';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuthenticator } from '../../src/auth.ts';
import { runTidings as tidings } from './tidings-process.ts';

describe('tidings CLI', () => {
  it('`stack up` twice is harmless: the second finds everything running', async () => {
    const first = await tidings(['stack', 'up']);
    expect(first.code).toBe(0);
    const second = await tidings(['stack', 'up']);
    expect(second.code).toBe(0);
    for (const name of ['postgres', 'kafka', 'schema-registry', 'smtp']) expect(second.stdout).toMatch(new RegExp(`^${name}\\s+running`, 'm'));
    const status = await tidings(['stack', 'status']);
    expect(status.code).toBe(0);
    expect(status.stdout.match(/ ready /g)).toHaveLength(4);
  });

  it('`stack up` refuses to start a service whose port another process holds', async () => {
    // A second stack folder: its mail catcher would collide with the one already running.
    const other = await mkdtemp(join(tmpdir(), 'tidings-stack-'));
    const result = await tidings(['stack', 'up'], {
      TIDINGS_STACK_DIR: other, KAFKA_BROKERS: '127.0.0.1:19092', SCHEMA_REGISTRY_URL: 'http://127.0.0.1:18081/apis/ccompat/v7', DATABASE_URL: 'postgres://tidings@127.0.0.1:15432/tidings',
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('smtp: port 11025 is taken by another process');
  });

  it('`stack status` says a configured service is not the stack\'s', async () => {
    const status = await tidings(['stack', 'status'], { KAFKA_BROKERS: 'kafka.internal:9092' });
    expect(status.stdout).toMatch(/^kafka\s+configured/m);
  });

  it('bad configuration is reported all at once, before anything starts', async () => {
    const result = await tidings(['start'], { TIDINGS_HTTP_PORT: '99999', KAFKA_BROKERS: 'nohost', SMTP_URL: 'http://mail', TIDINGS_ROLES: 'everything' });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('invalid configuration:');
    for (const name of ['TIDINGS_HTTP_PORT', 'KAFKA_BROKERS', 'SMTP_URL', 'TIDINGS_ROLES']) expect(result.stderr).toContain(`- ${name} `);
  });

  it('with a service left to the local stack, `token` signs with a key generated once in the stack folder', async () => {
    const stackDir = await mkdtemp(join(tmpdir(), 'tidings-stack-'));
    const first = await tidings(['token', 'u1'], { TIDINGS_STACK_DIR: stackDir, KAFKA_BROKERS: '127.0.0.1:19092' });
    expect(first.code).toBe(0);
    expect((await readdir(stackDir)).sort()).toEqual(['jwt.secret', 'secret.key']);
    const secret = (await readFile(join(stackDir, 'jwt.secret'), 'utf8')).trim();
    expect(await createAuthenticator({ secret }).verify(first.stdout.trim())).toMatchObject({ userId: 'u1' });
    const second = await tidings(['token', 'u2'], { TIDINGS_STACK_DIR: stackDir });
    expect(await createAuthenticator({ secret }).verify(second.stdout.trim())).toMatchObject({ userId: 'u2' });
  });

  it('`token` prints a JWT and `produce` publishes a test event with kafkajs', async () => {
    const token = await tidings(['token', 'u1', 'producer']);
    expect(token.stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const prefix = `${inject('runPrefix')}cli.`;
    // The topic does not exist for a new prefix until `topics` creates it.
    const early = await tidings(['produce', 'job_started', 'u1'], { TIDINGS_TOPIC_PREFIX: prefix });
    expect(early.code).toBe(1);
    expect(early.stderr).toContain(`topic ${prefix}notification.events does not exist`);
    expect((await tidings(['topics'], { TIDINGS_TOPIC_PREFIX: prefix, TIDINGS_PARTITIONS: '1' })).stdout).toMatch(new RegExp(`^${prefix.replace('.', '\\.')}notification\\.events\\s+delete\\s+created`, 'm'));
    const ok = await tidings(['produce', 'job_started', 'u1'], { TIDINGS_TOPIC_PREFIX: prefix, TIDINGS_PARTITIONS: '1' });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/partition 0 offset 0/);
  });
});

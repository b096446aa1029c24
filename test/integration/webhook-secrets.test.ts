/**
 * Webhook secrets and URL credentials never reach the logs: a Tidings logging
 * at trace level saves endpoints (a generated secret, a given one, a Discord
 * URL whose path is its credential), rotates a secret, and delivers to
 * receivers on loopback that fail, succeed and hang; nothing it logged holds
 * a secret, its key bytes, a sealed secret or the Discord token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pg from 'pg';
import { createLogger } from '../../src/logger.ts';
import { generateSecret } from '../../src/api/webhooks.ts';
import { callApi, isolatedSettings, startWith, waitFor, waitUntilProcessed, type Harness } from './harness.ts';
import { startReceiver, type Receiver } from './receivers.ts';

describe('webhook secrets in logs', () => {
  let h: Harness;
  let receiver: Receiver;
  let db: pg.Client;
  const logged: string[] = [];

  beforeAll(async () => {
    receiver = await startReceiver('127.0.0.2');
    const settings = await isolatedSettings({
      TIDINGS_ROLES: 'ingest,api,dedupe,router,projector,webhook', TIDINGS_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.2/32',
      TIDINGS_WEBHOOK_RETRY_SCHEDULE: '100ms,100ms,100ms', TIDINGS_WEBHOOK_INLINE_TIMEOUT_MS: '300', TIDINGS_WEBHOOK_TIMEOUT_MS: '600',
    });
    const capture = new Writable({ write(chunk: Buffer, _encoding, done) { logged.push(chunk.toString()); done(); } });
    h = await startWith(settings, {}, createLogger('trace', capture));
    db = new pg.Client({ connectionString: h.endpoints.databaseUrl });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await h?.stop();
    await receiver?.close();
  });

  it('logs no secret, sealed secret or URL credential while saving, rotating and delivering', async () => {
    const user = `u-${randomUUID()}`;
    const token = await h.auth.sign({ userId: user, roles: [] });
    const given = generateSecret();
    const discordToken = `tok-${randomUUID()}`;
    receiver.answer('/flaky', { status: 500 }, { status: 200 });
    receiver.answer('/slow', 'hang');
    const saved = await callApi(h, 'PUT', '/v1/webhooks', token, { endpoints: [
      { id: 'generated', url: `${receiver.url}/flaky` },
      { id: 'given', url: `${receiver.url}/slow`, secret: given },
      { id: 'chat', url: `${receiver.url}/api/webhooks/1/${discordToken}`, format: 'discord' },
    ] });
    expect(saved.status).toBe(202);
    const generated = saved.body.secrets.generated as string;
    await waitUntilProcessed(h);
    const rotated = await callApi(h, 'POST', '/v1/webhooks/given/rotate-secret', token);
    expect(rotated.status).toBe(202);
    await waitUntilProcessed(h);
    const producer = await h.auth.sign({ userId: 'producer', roles: ['producer'] });
    expect((await callApi(h, 'POST', '/v1/events', producer, { user_id: user, type: 'job_failed', title: 'Job failed', message: 'exit 1', source_type: 'job', source_id: randomUUID() })).status).toBe(202);
    await waitFor(() => (receiver.at('/flaky').length >= 2 && receiver.at('/slow').length >= 1 && receiver.requests.some((r) => r.path.includes(discordToken)) ? true : undefined), 'the deliveries');

    const sealed = (await db.query<{ secret_encrypted: string | null; previous_secret_encrypted: string | null }>(
      'select secret_encrypted, previous_secret_encrypted from user_webhooks where user_id = $1', [user])).rows.flatMap((r) => [r.secret_encrypted, r.previous_secret_encrypted]).filter((x): x is string => x !== null);
    expect(sealed.length).toBeGreaterThanOrEqual(3);
    const text = logged.join('');
    expect(text).toContain('webhook attempt failed'); // the failures were logged, at all
    const forbidden = [generated, given, rotated.body.secret as string, ...[generated, given].map((s) => s.slice('whsec_'.length)), ...sealed, discordToken];
    for (const secret of forbidden) expect(text.includes(secret), `the log holds ${secret.slice(0, 12)}…`).toBe(false);
  });
});

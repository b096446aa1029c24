/**
 * /health/email of a Tidings with the email role: the state of every
 * transport of SMTP_URL (two smtp-server instances on 127.0.0.1), from the
 * pool the e-mail lanes send through, with passwords redacted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { SMTPServer } from 'smtp-server';
import { freePort } from '../../src/stack/process.ts';
import { callApi, isolatedSettings, startWith, waitFor, waitForConsumed, waitUntilProcessed, type Harness } from './harness.ts';

const PASSWORD = 's3cret-do-not-show';

interface Transport { index: number; url: string; status: string; circuitOpenUntil: number | null; lastError: { message: string } | null; lastSuccessAt: number | null; rateLimit: unknown }
interface EmailHealthBody { healthy: boolean; status: string; source: string; error?: string; transports: Transport[]; checks?: { email: unknown } }

interface TestServer { port: number; received: number; close(): Promise<void> }

/** An smtp-server on 127.0.0.1 that accepts every message; closing it drops its connections at once. */
async function startServer(port: number): Promise<TestServer> {
  const state: TestServer = { port, received: 0, close: async () => {} };
  const server = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false, closeTimeout: 50,
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => { state.received += 1; callback(); });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}

describe('/health/email with the email role', () => {
  let h: Harness;
  let first: TestServer;
  let second: TestServer;
  let smtpUrl: string;

  beforeAll(async () => {
    first = await startServer(await freePort());
    second = await startServer(await freePort());
    await first.close(); // the first transport of SMTP_URL is down from the start
    smtpUrl = `smtp://tidings:${PASSWORD}@127.0.0.1:${first.port},smtp://127.0.0.1:${second.port}`;
    const settings = await isolatedSettings({
      TIDINGS_ROLES: 'ingest,api,dedupe,router,projector,email', SMTP_URL: smtpUrl, TIDINGS_EMAIL_RATE_PER_SECOND: '0',
      TIDINGS_EMAIL_CIRCUIT_OPEN_MS: '60000', TIDINGS_EMAIL_HEALTH_VERIFY_MS: '50', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    });
    h = await startWith({ ...settings, endpoints: { ...settings.endpoints, smtpUrl } });
  });
  afterAll(async () => {
    await h?.stop();
    await second?.close();
  });

  const health = async (path: string) => {
    const response = await fetch(`${h.tidings.url}${path}`);
    const text = await response.text();
    expect(text).not.toContain(PASSWORD);
    return { status: response.status, body: JSON.parse(text) as EmailHealthBody };
  };

  it('shows the stopped transport circuit-open and the other verified after a send (200), and 503 once both are stopped; no password', async () => {
    const admin = await h.auth.sign({ userId: 'root', roles: ['admin'] });
    const producer = await h.auth.sign({ userId: 'producer', roles: ['producer'] });
    const user = `u-${randomUUID()}`;
    expect((await callApi(h, 'PUT', `/v1/recipients/${user}`, admin, { email: `${randomUUID()}@example.test`, display_name: 'Alice', locale: 'en' })).status).toBe(202);
    await waitForConsumed(h, 'router', h.tidings.topics.recipients);
    await waitUntilProcessed(h);
    expect((await callApi(h, 'POST', '/v1/events', producer, { user_id: user, type: 'job_failed', title: 'Job failed', message: 'exit 1', source_type: 'job', source_id: randomUUID() })).status).toBe(202);
    await waitFor(() => (second.received > 0 ? true : undefined), 'the e-mail at the second transport');

    const up = await health('/health/email');
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({ healthy: true, source: 'pool', status: 'up' });
    const [stopped, running] = up.body.transports;
    expect(stopped).toMatchObject({ index: 0, url: `smtp://tidings:***@127.0.0.1:${first.port}`, status: 'circuit-open' });
    expect(stopped!.circuitOpenUntil).toBeGreaterThan(Date.now());
    expect(stopped!.lastError?.message).toMatch(/ECONNREFUSED|connect/i);
    expect(running).toMatchObject({ index: 1, url: `smtp://127.0.0.1:${second.port}`, status: 'verified', lastError: null });
    expect(running!.lastSuccessAt).toBeGreaterThan(0);
    expect(running!.rateLimit).toMatchObject({ second: { limit: 0 }, day: { used: 1 } });
    expect((await health('/health')).body.checks?.email).toMatchObject({ healthy: true, status: 'up' });

    await second.close();
    // Health checks connect to the transports at most every TIDINGS_EMAIL_HEALTH_VERIFY_MS (50 here).
    const down = await waitFor(async () => {
      const answer = await health('/health/email');
      return answer.status === 503 ? answer : undefined;
    }, 'the e-mail check down', 5_000);
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ healthy: false, source: 'pool', status: 'down' });
    expect(down.body.error).toMatch(/no SMTP transport is usable/);
    expect(down.body.transports.map((t) => t.status)).toEqual(['circuit-open', 'circuit-open']);
    const all = await health('/health');
    expect(all.status).toBe(503);
    expect(all.body.checks?.email).toMatchObject({ healthy: false, status: 'down' });
  });
});

/**
 * Transport failover through the pipeline: SMTP_URL names two SMTP servers on
 * 127.0.0.1; e-mails go to the first until it is stopped mid-run, then to the
 * second, and none is lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { freePort } from '../../src/stack/process.ts';
import { callApi, isolatedSettings, startWith, waitFor, waitForConsumed, waitUntilProcessed, type Harness } from './harness.ts';

async function startSmtp(port: number, into: ParsedMail[]): Promise<SMTPServer> {
  const server = new SMTPServer({
    // Stopping drops the pooled connections after 200 ms instead of waiting 30 s for them.
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false, closeTimeout: 200,
    onData(stream, _session, callback) { simpleParser(stream).then((mail) => { into.push(mail); callback(); }, callback); },
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', () => resolve()); });
  return server;
}

describe('e-mail transport failover', () => {
  const first: ParsedMail[] = [];
  const second: ParsedMail[] = [];
  let servers: SMTPServer[] = [];
  let h: Harness;
  let admin = '';
  let producer = '';

  beforeAll(async () => {
    const ports = [await freePort(), await freePort()];
    servers = [await startSmtp(ports[0]!, first), await startSmtp(ports[1]!, second)];
    const smtpUrl = ports.map((p) => `smtp://127.0.0.1:${p}`).join(',');
    const settings = await isolatedSettings({
      TIDINGS_ROLES: 'ingest,api,dedupe,router,projector,email', SMTP_URL: smtpUrl, TIDINGS_EMAIL_RETRY_SCHEDULE: '200ms,200ms,200ms',
      TIDINGS_EMAIL_RATE_PER_SECOND: '0', TIDINGS_EMAIL_CIRCUIT_OPEN_MS: '60000',
    });
    h = await startWith({ ...settings, endpoints: { ...settings.endpoints, smtpUrl } });
    admin = await h.auth.sign({ userId: 'root', roles: ['admin'] });
    producer = await h.auth.sign({ userId: 'producer', roles: ['producer'] });
  });
  afterAll(async () => {
    await h?.stop();
    for (const s of servers) await new Promise<void>((resolve) => s.close(() => resolve()));
  });

  const send = async (count: number) => {
    const addresses = Array.from({ length: count }, () => `fo-${randomUUID()}@example.test`);
    const users = addresses.map(() => `u-${randomUUID()}`);
    for (const [i, user] of users.entries()) {
      expect((await callApi(h, 'PUT', `/v1/recipients/${user}`, admin, { email: addresses[i], display_name: 'Fo', locale: 'en' })).status).toBe(202);
    }
    await waitForConsumed(h, 'router', h.tidings.topics.recipients);
    await waitUntilProcessed(h);
    for (const user of users) {
      expect((await callApi(h, 'POST', '/v1/events', producer, { user_id: user, type: 'job_failed', title: 'Job failed', message: 'exit 1', source_type: 'job', source_id: randomUUID() })).status).toBe(202);
    }
    return addresses;
  };
  const arrived = (mails: ParsedMail[], address: string) => mails.some((m) => JSON.stringify(m.to ?? '').includes(address));

  it('sends to the first transport, and to the second once the first is stopped, losing nothing', async () => {
    const early = await send(3);
    await waitFor(() => (early.every((a) => arrived(first, a)) ? true : undefined), 'the first e-mails at the first server');
    expect(second).toHaveLength(0);
    await new Promise<void>((resolve) => servers[0]!.close(() => resolve()));
    const late = await send(3);
    await waitFor(() => (late.every((a) => arrived(second, a)) ? true : undefined), 'the later e-mails at the second server');
    expect(late.some((a) => arrived(first, a))).toBe(false);
  });
});

/**
 * SIGKILL while e-mails wait in the retry topics: nothing is lost. A
 * `tidings start` process runs the pipeline and the email role against an
 * SMTP server on 127.0.0.1 that puts every recipient's first RCPT off (451);
 * the process is killed before any retry is due, and a new one sends them all,
 * each with the Message-ID of its delivery. And SIGKILL in the middle of a
 * rate-limited burst of first attempts: a new process sends the rest, and only
 * e-mails whose transaction had not committed go out twice (same Message-ID).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { freePort } from '../../src/stack/process.ts';
import { callApi, isolatedSettings, startWith, waitForConsumed, waitUntilProcessed, type Harness } from './harness.ts';
import { startTidingsProcess, type TidingsProcess } from './tidings-process.ts';
import { startSmtp, type TestSmtp } from './smtp-servers.ts';

describe('e-mails across a SIGKILL', () => {
  const children: TidingsProcess[] = [];
  let front: Harness | undefined;
  let server: SMTPServer | undefined;
  let smtp: TestSmtp | undefined;
  afterAll(async () => {
    for (const c of children) c.kill();
    await front?.stop();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await smtp?.close();
  });

  it('sends every e-mail that was waiting for its retry when the process was killed', async () => {
    const rcpts = new Map<string, number>();
    const received: ParsedMail[] = [];
    const port = await freePort();
    server = new SMTPServer({
      authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
      onRcptTo(address, _session, callback) {
        const n = (rcpts.get(address.address) ?? 0) + 1;
        rcpts.set(address.address, n);
        if (n === 1) return callback(Object.assign(new Error('4.7.1 try again later'), { responseCode: 451 }));
        callback();
      },
      onData(stream, _session, callback) {
        simpleParser(stream).then((mail) => { received.push(mail); callback(); }, callback);
      },
    });
    await new Promise<void>((resolve, reject) => { server!.once('error', reject); server!.listen(port, '127.0.0.1', () => resolve()); });
    const smtpUrl = `smtp://127.0.0.1:${port}`;
    const settings = await isolatedSettings({ LOG_LEVEL: 'warn', SMTP_URL: smtpUrl, TIDINGS_EMAIL_RETRY_SCHEDULE: '3s,3s,3s', TIDINGS_EMAIL_RATE_PER_SECOND: '0' });
    const roles = 'dedupe,router,projector,email';
    const back = await startTidingsProcess({ ...settings.env, TIDINGS_ROLES: roles, TIDINGS_INSTANCE_ID: `${settings.id}-a` });
    children.push(back);
    front = await startWith({ ...settings, endpoints: { ...settings.endpoints, smtpUrl } }, { TIDINGS_ROLES: 'ingest,api', TIDINGS_INSTANCE_ID: `${settings.id}-front` });
    const admin = await front.auth.sign({ userId: 'root', roles: ['admin'] });
    const producer = await front.auth.sign({ userId: 'producer', roles: ['producer'] });
    const addresses = Array.from({ length: 5 }, () => `crash-${randomUUID()}@example.test`);
    const users: string[] = [];
    for (const email of addresses) {
      const user = `u-${randomUUID()}`;
      users.push(user);
      expect((await callApi(front, 'PUT', `/v1/recipients/${user}`, admin, { email, display_name: 'Crash', locale: 'en' })).status).toBe(202);
    }
    await back.waitFor(async () => { await waitForConsumed(front!, 'router', front!.tidings.topics.recipients); return true; }, 'the router to know the recipients');
    await waitUntilProcessed(front);
    for (const user of users) {
      expect((await callApi(front, 'POST', '/v1/events', producer, { user_id: user, type: 'job_failed', title: 'Job failed', message: 'exit 1', source_type: 'job', source_id: randomUUID() })).status).toBe(202);
    }
    await back.waitFor(() => (addresses.every((a) => rcpts.get(a) === 1) ? true : undefined), 'a first, put-off RCPT for every e-mail', 30_000);
    back.kill(); // before the retries are due (3 s)
    expect(received).toHaveLength(0);

    const again = await startTidingsProcess({ ...settings.env, TIDINGS_ROLES: roles, TIDINGS_INSTANCE_ID: `${settings.id}-b` });
    children.push(again);
    await again.waitFor(() => (addresses.every((a) => received.some((m) => m.to && JSON.stringify(m.to).includes(a))) ? true : undefined), 'every e-mail at the server', 90_000);
    const ids = new Set(received.map((m) => m.messageId));
    expect(ids.size).toBe(addresses.length);
    for (const id of ids) expect(id).toMatch(/^<[0-9a-f-]{36}@/);
    expect(await again.stop()).toBe(0);
    children.length = 0;
  }, 240_000);

  it('sends the rest of a rate-limited burst after a SIGKILL mid-send; only uncommitted ones twice', async () => {
    smtp = await startSmtp();
    const perSecond = 10;
    const settings = await isolatedSettings({ LOG_LEVEL: 'warn', SMTP_URL: smtp.url, TIDINGS_EMAIL_RETRY_SCHEDULE: '200ms,200ms', TIDINGS_EMAIL_RATE_PER_SECOND: String(perSecond) });
    const roles = 'dedupe,router,projector,email';
    const back = await startTidingsProcess({ ...settings.env, TIDINGS_ROLES: roles, TIDINGS_INSTANCE_ID: `${settings.id}-a` });
    children.push(back);
    const api = await startWith({ ...settings, endpoints: { ...settings.endpoints, smtpUrl: smtp.url } }, { TIDINGS_ROLES: 'ingest,api', TIDINGS_INSTANCE_ID: `${settings.id}-front` });
    const admin = await api.auth.sign({ userId: 'root', roles: ['admin'] });
    const producer = await api.auth.sign({ userId: 'producer', roles: ['producer'] });
    const users = Array.from({ length: 4 }, () => `u-${randomUUID()}`);
    for (const user of users) {
      expect((await callApi(api, 'PUT', `/v1/recipients/${user}`, admin, { email: `${user}@example.test`, display_name: 'Burst', locale: 'en' })).status).toBe(202);
    }
    await back.waitFor(async () => { await waitForConsumed(api, 'router', api.tidings.topics.recipients); return true; }, 'the router to know the recipients');
    await waitUntilProcessed(api);
    const total = 40;
    for (let i = 0; i < total; i++) {
      expect((await callApi(api, 'POST', '/v1/events', producer, { user_id: users[i % users.length], type: 'job_failed', title: `Burst ${i}`, message: 'm', source_type: 'job', source_id: randomUUID() })).status).toBe(202);
    }
    const mail = smtp;
    await back.waitFor(() => (mail.received.length >= perSecond ? true : undefined), 'the first e-mails of the burst', 30_000);
    back.kill();
    const beforeKill = mail.received.length;
    expect(beforeKill).toBeLessThan(total);

    const again = await startTidingsProcess({ ...settings.env, TIDINGS_ROLES: roles, TIDINGS_INSTANCE_ID: `${settings.id}-b` });
    children.push(again);
    const distinct = () => new Set(mail.received.map((r) => r.mail.messageId));
    await again.waitFor(() => (distinct().size >= total ? true : undefined), `all ${total} e-mails at the server`, 90_000);
    const titles = new Set(mail.received.map((r) => r.mail.subject));
    expect(titles.size).toBe(total);
    // Repeats are the e-mails sent but not committed when the process died: at most what the limit let through in its last two seconds.
    expect(mail.received.length - total).toBeLessThanOrEqual(2 * perSecond);
    expect(await again.stop()).toBe(0);
    await api.stop();
    children.length = 0;
  }, 240_000);
});

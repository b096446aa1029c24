/**
 * The e-mail channel against real SMTP servers on loopback: the stack's mail
 * catcher, and smtp-server instances this file starts on 127.0.0.1.
 */
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { CapturedMail } from '../../src/stack/mail-catcher.ts';
import { freePort } from '../../src/stack/process.ts';
import { createTransportPool, type TransportPool, type TransportPoolOptions } from '../../src/channels/email/transport-pool.ts';
import { createEmailSender } from '../../src/channels/email/sender.ts';
import { createEmailTemplates } from '../../src/channels/email/templates.ts';
import { smtpVerdict } from '../../src/channels/email/outcome.ts';
import { verifyUnsubscribe } from '../../src/channels/email/unsubscribe.ts';
import { SmtpNotAttempted } from '../../src/channels/email/smtp-errors.ts';
import { emailPriority, type DeliveryCommand } from '../../src/model/routing.ts';
import type { Notification } from '../../src/model/notification.ts';
import { waitFor } from './harness.ts';

const SECRET = 'email-channel-test-secret';
const DOMAIN = 'tidings.example.test';
const templates = createEmailTemplates();

const command = (overrides: Partial<Notification> = {}, deliveryId = randomUUID(), attempt = 1): DeliveryCommand => {
  const to = `${randomUUID()}@example.test`;
  const notification: Notification = {
    id: randomUUID(), user_id: 'u1', type: 'job_failed', category: 'job', severity: 'critical', title: 'Job <b>42</b> failed', message: 'Out of memory & more',
    data: '{}', action_url: 'https://tidings.example.test/jobs/42', source_type: 'job', source_id: '42', source_key: 'job:42:job_failed:u1', event_id: null,
    occurred_at: Date.UTC(2025, 11, 23, 10, 30), created_at: Date.UTC(2025, 11, 23, 10, 31), ...overrides,
  };
  return { delivery_id: deliveryId, channel: 'email', user_id: 'u1', email: { address: to, display_name: 'Alice', locale: 'en-GB' }, webhook: null, attempt, notification, created_at: 0 };
};

const pools: TransportPool[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const pool of pools.splice(0)) pool.close();
});
afterAll(async () => {
  for (const close of closers.splice(0)) await close();
});

const poolOf = (urls: string[], overrides: Partial<TransportPoolOptions> = {}): TransportPool => {
  const pool = createTransportPool({ urls, circuitOpenMs: 30_000, connectionTimeoutMs: 2_000, rateLimit: { perSecond: 0, perDay: 0 }, ...overrides });
  pools.push(pool);
  return pool;
};
const senderOf = (pool: TransportPool) => createEmailSender({
  pool, templates, fromAddress: '"Tidings" <noreply@tidings.example.test>', domain: DOMAIN, unsubscribeBase: 'https://tidings.example.test/v1/unsubscribe', unsubscribeSecret: SECRET,
});
const attempt = (pool: TransportPool, c: DeliveryCommand) => senderOf(pool).attempt(c, { waitMs: 5_000, priority: emailPriority(c.notification) });

interface TestServer { url: string; port: number; received: ParsedMail[]; connections: number; close(): Promise<void> }

/** An smtp-server on 127.0.0.1 that keeps what it accepts; `rcpt` may refuse a recipient. */
async function startServer(options: { port?: number; rcpt?: (n: number) => { code: number; text: string } | undefined } = {}): Promise<TestServer> {
  const port = options.port ?? (await freePort());
  const state: TestServer = { url: `smtp://127.0.0.1:${port}`, port, received: [], connections: 0, close: async () => {} };
  let rcpts = 0;
  const config: SMTPServerOptions = {
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
    onConnect(_session, callback) {
      state.connections += 1;
      callback();
    },
    onRcptTo(_address, _session, callback) {
      const refusal = options.rcpt?.(++rcpts);
      if (!refusal) return callback();
      callback(Object.assign(new Error(refusal.text), { responseCode: refusal.code }));
    },
    onData(stream, _session, callback) {
      simpleParser(stream).then((mail) => { state.received.push(mail); callback(); }, callback);
    },
  };
  const server = new SMTPServer(config);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  closers.push(state.close);
  return state;
}

/** A TCP server on 127.0.0.1 that accepts connections and never says a word. */
async function startSilentServer(): Promise<{ url: string }> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => { sockets.add(socket); socket.on('error', () => {}); });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  closers.push(() => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }));
  return { url: `smtp://127.0.0.1:${port}` };
}

async function caught(to: string): Promise<CapturedMail> {
  return waitFor(async () => {
    const list = (await (await fetch(`${inject('mailApiUrl')}/messages?to=${encodeURIComponent(to)}`)).json()) as CapturedMail[];
    return list[0];
  }, `the mail to ${to} at the catcher`);
}

describe('e-mail channel', () => {
  it('sends through the stack\'s catcher: subject, both bodies, Message-ID from the delivery id, one-click unsubscribe, priority', async () => {
    const pool = poolOf([inject('endpoints').smtpUrl]);
    const c = command();
    const outcome = await attempt(pool, c);
    expect(outcome).toMatchObject({ kind: 'answered', status: 250 });
    expect(smtpVerdict(outcome)).toEqual({ kind: 'sent' });

    const mail = await caught(c.email!.address);
    expect(mail.subject).toBe('[Tidings] Job <b>42</b> failed');
    expect(mail.messageId).toBe(`<${c.delivery_id}@${DOMAIN}>`);
    expect(mail.html).toContain('Job &lt;b&gt;42&lt;/b&gt; failed');
    expect(mail.html).toContain('Out of memory &amp; more');
    expect(mail.text).toContain('Out of memory & more');
    expect(mail.to).toEqual([c.email!.address]);
    expect(mail.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    expect(mail.headers['x-priority']).toBe('1 (Highest)');
    expect(mail.headers.importance).toBe('high');
    const link = /^<(https:\/\/tidings\.example\.test\/v1\/unsubscribe\?token=[^>]+)>$/.exec(mail.headers['list-unsubscribe'] ?? '');
    expect(link).not.toBeNull();
    const token = new URL(link![1]!).searchParams.get('token')!;
    expect(verifyUnsubscribe(token, SECRET)).toMatchObject({ userId: 'u1', type: 'job_failed' });
    expect(mail.text).toContain(link![1]);
    expect(pool.state()).toMatchObject([{ index: 0, status: 'verified', lastError: null }]);
  });

  it('a mandatory type\'s e-mail has no List-Unsubscribe', async () => {
    const pool = poolOf([inject('endpoints').smtpUrl]);
    const c = command({ type: 'security_password_changed', category: 'security', severity: 'warning', title: 'Password changed' });
    expect(await attempt(pool, c)).toMatchObject({ kind: 'answered', status: 250 });
    const mail = await caught(c.email!.address);
    expect(mail.subject).toBe('[Tidings] Your password was changed');
    expect(mail.headers).not.toHaveProperty('list-unsubscribe');
    expect(mail.headers).not.toHaveProperty('list-unsubscribe-post');
    expect(mail.headers['x-priority']).toBe('3 (Normal)');
  });

  it('fails over: the first transport closed, the second delivers and the first\'s circuit is open', async () => {
    const first = await startServer();
    await first.close();
    const second = await startServer();
    const pool = poolOf([first.url, second.url]);
    const c = command();
    expect(await attempt(pool, c)).toMatchObject({ kind: 'answered', status: 250 });
    expect(second.received.map((m) => m.messageId)).toEqual([`<${c.delivery_id}@${DOMAIN}>`]);
    const [a, b] = pool.state();
    expect(a).toMatchObject({ index: 0, url: first.url, status: 'circuit-open' });
    expect(a?.lastError?.message).toMatch(/ECONNREFUSED/);
    expect(b).toMatchObject({ index: 1, status: 'verified' });
    // The next send goes straight to the second.
    expect(await attempt(pool, command())).toMatchObject({ kind: 'answered', status: 250 });
    expect(second.received).toHaveLength(2);
  });

  it('probes a transport again once its circuit has been open for circuitOpenMs', async () => {
    const port = await freePort(); // nothing listens here yet
    const second = await startServer();
    let now = Date.now();
    const pool = poolOf([`smtp://127.0.0.1:${port}`, second.url], { circuitOpenMs: 60_000, clock: () => now });
    await attempt(pool, command());
    expect(pool.state()[0]?.status).toBe('circuit-open');
    const first = await startServer({ port });
    await attempt(pool, command());
    expect([first.received.length, second.received.length]).toEqual([0, 2]);
    now += 60_000;
    expect(pool.state()[0]?.status).toBe('failing');
    await attempt(pool, command());
    expect([first.received.length, second.received.length]).toEqual([1, 2]);
    expect(pool.state()[0]).toMatchObject({ status: 'verified', circuitOpenUntil: null });
  });

  it('a server that accepts the connection and never greets times out; the next transport delivers', async () => {
    const silent = await startSilentServer();
    const second = await startServer();
    const pool = poolOf([silent.url, second.url], { connectionTimeoutMs: 300 });
    expect(await attempt(pool, command())).toMatchObject({ kind: 'answered', status: 250 });
    expect(second.received).toHaveLength(1);
    expect(pool.state()[0]).toMatchObject({ status: 'circuit-open' });
    expect(pool.state()[0]?.lastError?.message).toMatch(/greeting|timeout/i);
  });

  it('with every transport down the attempt is a no-answer to retry, then not attempted while the circuits are open', async () => {
    const pool = poolOf([`smtp://127.0.0.1:${await freePort()}`]);
    const first = await attempt(pool, command());
    expect(first).toMatchObject({ kind: 'no-answer', final: false });
    expect(smtpVerdict(first).kind).toBe('retry');
    const second = await attempt(pool, command());
    expect(second).toMatchObject({ kind: 'not-attempted' });
    expect(smtpVerdict(second).kind).toBe('retry');
    await expect(pool.send({ from: 'a@example.test', to: 'b@example.test', text: 'x' }, { priority: 'high', waitMs: 0 })).rejects.toBeInstanceOf(SmtpNotAttempted);
  });

  it('451 then accepted: the first attempt is retried, the second is sent with the same Message-ID', async () => {
    const server = await startServer({ rcpt: (n) => (n === 1 ? { code: 451, text: '4.7.1 greylisted, try again later' } : undefined) });
    const other = await startServer();
    const pool = poolOf([server.url, other.url]);
    const deliveryId = randomUUID();
    const first = await attempt(pool, command({}, deliveryId, 1));
    expect(first).toMatchObject({ kind: 'answered', status: 451 });
    expect(smtpVerdict(first)).toEqual({ kind: 'retry', error: expect.stringContaining('451 4.7.1 greylisted') });
    expect(other.connections).toBe(0);
    expect(pool.state()[0]?.status).toBe('verified');
    const second = await attempt(pool, command({}, deliveryId, 2));
    expect(smtpVerdict(second)).toEqual({ kind: 'sent' });
    expect(server.received.map((m) => m.messageId)).toEqual([`<${deliveryId}@${DOMAIN}>`]);
  });

  it('550 ends the delivery with the server\'s text and the next transport is not tried', async () => {
    const server = await startServer({ rcpt: () => ({ code: 550, text: '5.1.1 no such user here' }) });
    const other = await startServer();
    const pool = poolOf([server.url, other.url]);
    const outcome = await attempt(pool, command());
    expect(outcome).toMatchObject({ kind: 'answered', status: 550 });
    const verdict = smtpVerdict(outcome);
    expect(verdict).toMatchObject({ kind: 'end', code: 'TIDINGS_EMAIL_REFUSED' });
    expect(verdict.kind === 'end' && verdict.reason).toContain('5.1.1 no such user here');
    expect(other.connections).toBe(0);
    expect(server.received).toHaveLength(0);
    expect(pool.state().map((s) => s.status)).toEqual(['verified', 'untried']);
  });

  it('holds the per-second limit on a real transport and reports its use', async () => {
    const server = await startServer();
    const pool = poolOf([server.url], { rateLimit: { perSecond: 3, perDay: 0 } });
    const started = Date.now();
    const outcomes = await Promise.all(Array.from({ length: 7 }, () => attempt(pool, command({ severity: 'info' }))));
    expect(outcomes.every((o) => o.kind === 'answered' && o.status === 250)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000); // 3 now, 3 after 1 s, 1 after 2 s
    expect(pool.state()[0]?.rateLimit.second.limit).toBe(3);
    expect(server.received).toHaveLength(7);
  });

  it('sends over TLS on the pool\'s own sockets: smtps:// and STARTTLS', async () => {
    for (const secure of [true, false]) {
      const sessions: boolean[] = [];
      // smtp-server's built-in self-signed certificate; the URL's tls.rejectUnauthorized=false accepts it.
      const server = new SMTPServer({ secure, authOptional: true, logger: false, onData(stream, session, done) { sessions.push(Boolean(session.secure)); stream.resume(); stream.on('end', () => done()); } });
      const port = await freePort();
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
      closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
      const pool = poolOf([`${secure ? 'smtps' : 'smtp'}://127.0.0.1:${port}?tls.rejectUnauthorized=false`]);
      const sent = await pool.send({ from: 'noreply@tidings.example.test', to: 'tls@example.test', subject: 'tls', text: 't' }, { priority: 'bulk', waitMs: 1_000 });
      expect(sent.info.response).toMatch(/^250/);
      expect(sessions).toEqual([true]);
    }
  });

  it('redacts the password in state()', () => {
    const pool = poolOf(['smtp://mailer:hunter2@127.0.0.1:1'], { rateLimit: { perSecond: 10, perDay: 10_000 } });
    expect(pool.state()[0]).toMatchObject({ url: 'smtp://mailer:***@127.0.0.1:1', status: 'untried', rateLimit: { second: { used: 0, limit: 10 }, day: { used: 0, limit: 10_000 } } });
  });
});

/**
 * E-mail delivery through the pipeline on the real stack: an event for a
 * recipient with an address reaches the stack's mail catcher; smtp-server
 * instances on 127.0.0.1 put the first RCPT off (451: retried through the
 * retry tier, the same Message-ID) or refuse it (550: dead-lettered, no second
 * attempt); a command without an address is a `skipped` result.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { createCodec } from '../../src/kafka/codec.ts';
import type { CapturedMail } from '../../src/stack/mail-catcher.ts';
import { freePort } from '../../src/stack/process.ts';
import type { DeliveryCommand, DeliveryResult } from '../../src/model/routing.ts';
import { callApi, isolatedSettings, readTopic, startWith, waitFor, waitForConsumed, waitUntilProcessed, type Harness } from './harness.ts';

const ROLES = 'ingest,api,dedupe,router,projector,email';

/** What a test needs of one Tidings with the email role. */
function pipeline(smtpUrl: () => string) {
  const state = { h: undefined as unknown as Harness, db: undefined as unknown as pg.Client, producer: '', admin: '' };
  beforeAll(async () => {
    const settings = await isolatedSettings({
      TIDINGS_ROLES: ROLES, SMTP_URL: smtpUrl(), TIDINGS_EMAIL_RETRY_SCHEDULE: '100ms,200ms', TIDINGS_EMAIL_RATE_PER_SECOND: '0',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    });
    // Tidings sends to the endpoints' SMTP server (the run's catcher unless this test names its own).
    state.h = await startWith({ ...settings, endpoints: { ...settings.endpoints, smtpUrl: smtpUrl() } });
    state.db = new pg.Client({ connectionString: state.h.endpoints.databaseUrl });
    await state.db.connect();
    state.producer = await state.h.auth.sign({ userId: 'producer', roles: ['producer'] });
    state.admin = await state.h.auth.sign({ userId: 'root', roles: ['admin'] });
  });
  afterAll(async () => {
    await state.db?.end();
    await state.h?.stop();
  });
  const codec = () => createCodec(state.h.endpoints.schemaRegistryUrl);
  return {
    state,
    /** A user with `email`, known to the router. */
    async recipient(email: string) {
      const user = `u-${randomUUID()}`;
      expect((await callApi(state.h, 'PUT', `/v1/recipients/${user}`, state.admin, { email, display_name: 'Alice', locale: 'en' })).status).toBe(202);
      await waitForConsumed(state.h, 'router', state.h.tidings.topics.recipients);
      await waitUntilProcessed(state.h);
      return user;
    },
    async post(user: string) {
      const posted = await callApi(state.h, 'POST', '/v1/events', state.producer, { user_id: user, type: 'job_failed', title: 'Job <42> failed', message: 'exit 1 & more', source_type: 'job', source_id: randomUUID() });
      expect(posted.status).toBe(202);
    },
    /** The user's delivery results, once there are `count`. */
    results: (user: string, count: number) => waitFor(async () => {
      const mine = (await readTopic(state.h.endpoints.kafkaBrokers, state.h.tidings.topics.deliveryResults, (v) => codec().decode('DeliveryResult', v)))
        .map((r) => r.value).filter((r): r is DeliveryResult => r !== null && r.user_id === user);
      return mine.length >= count ? mine : undefined;
    }, `${count} delivery result(s) for ${user}`),
    read: (topic: string) => readTopic(state.h.endpoints.kafkaBrokers, topic, (v) => codec().decode('DeliveryCommand', v)),
  };
}

describe('e-mail delivery to the stack\'s catcher', () => {
  const p = pipeline(() => inject('endpoints').smtpUrl);

  const caught = (to: string) => waitFor(async () => {
    const list = (await (await fetch(`${inject('mailApiUrl')}/messages?to=${encodeURIComponent(to)}`)).json()) as CapturedMail[];
    return list[0];
  }, `the mail to ${to} at the catcher`);

  it('sends an event\'s e-mail: subject, both bodies, Message-ID from the delivery id, one-click unsubscribe; the result is sent and projected', async () => {
    const address = `${randomUUID()}@example.test`;
    const user = await p.recipient(address);
    await p.post(user);
    const mail = await caught(address);
    const [result] = await p.results(user, 1);
    expect(result).toMatchObject({ channel: 'email', attempt: 1, outcome: 'sent', status: 250, endpoint_id: null, error: null });
    expect(mail.messageId).toBe(`<${result!.delivery_id}@localhost>`);
    expect(mail.from).toContain('notifications@localhost');
    expect(mail.subject).toContain('Job <42> failed');
    expect(mail.html).toContain('Job &lt;42&gt; failed');
    expect(mail.text).toContain('exit 1 & more');
    expect(mail.headers['list-unsubscribe']).toMatch(new RegExp(`^<${p.state.h.tidings.url}/v1/unsubscribe\\?token=[^>]+>$`));
    expect(mail.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');

    const rows = await waitFor(async () => {
      const { rows } = await p.state.db.query<{ attempt: number; outcome: string; channel: string }>('select attempt, outcome, channel from delivery_attempts where delivery_id = $1', [result!.delivery_id]);
      return rows.length === 1 ? rows : undefined;
    }, 'the projected attempt');
    expect(rows).toEqual([{ attempt: 1, outcome: 'sent', channel: 'email' }]);
    const status = await waitFor(async () => (await p.state.db.query<{ delivery: Record<string, { outcome: string }> }>('select delivery from notifications where user_id = $1', [user])).rows[0]?.delivery.email, 'the notification\'s e-mail status');
    expect(status.outcome).toBe('sent');
  });

  it('a command without an address is a skipped result, not retried', async () => {
    const user = `u-${randomUUID()}`;
    const now = Date.now();
    const command: DeliveryCommand = {
      delivery_id: randomUUID(), channel: 'email', user_id: user, email: null, webhook: null, attempt: 1, created_at: now,
      notification: {
        id: randomUUID(), user_id: user, type: 'job_failed', category: 'job', severity: 'error', title: 'Job failed', message: 'exit 1', data: '{}',
        action_url: null, source_type: 'job', source_id: randomUUID(), source_key: 'k', event_id: null, occurred_at: now, created_at: now,
      },
    };
    await p.state.h.tidings.publisher.publish(p.state.h.tidings.topics.deliveryEmail, user, command);
    const [result] = await p.results(user, 1);
    expect(result).toMatchObject({ delivery_id: command.delivery_id, outcome: 'skipped', error: 'no e-mail address', next_attempt_at: null });
    await waitForConsumed(p.state.h, 'email', p.state.h.tidings.topics.deliveryEmail);
    expect(await p.results(user, 1)).toHaveLength(1);
  });
});

describe('e-mail delivery to an SMTP server that puts off or refuses', () => {
  let port = 0;
  const received: ParsedMail[] = [];
  const rcpts = new Map<string, number>();
  let server: SMTPServer;
  beforeAll(async () => {
    port = await freePort();
    // `later-…` is put off once (451), `never-…` always refused (550), anyone else accepted.
    server = new SMTPServer({
      authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
      onRcptTo(address, _session, callback) {
        const to = address.address;
        const n = (rcpts.get(to) ?? 0) + 1;
        rcpts.set(to, n);
        if (to.startsWith('later-') && n === 1) return callback(Object.assign(new Error('4.7.1 try again later'), { responseCode: 451 }));
        if (to.startsWith('never-')) return callback(Object.assign(new Error('5.1.1 no such user'), { responseCode: 550 }));
        callback();
      },
      onData(stream, _session, callback) {
        simpleParser(stream).then((mail) => { received.push(mail); callback(); }, callback);
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const p = pipeline(() => `smtp://127.0.0.1:${port}`);

  it('retries a 451 through the retry tier and sends it with the delivery\'s Message-ID', async () => {
    const address = `later-${randomUUID()}@example.test`;
    const user = await p.recipient(address);
    await p.post(user);
    const results = await p.results(user, 2);
    expect(results.map((r) => [r.attempt, r.outcome, r.status])).toEqual([[1, 'retrying', 451], [2, 'sent', 250]]);
    expect(results[0]!.error).toContain('451');
    expect(results[1]!.delivery_id).toBe(results[0]!.delivery_id);
    const mail = await waitFor(() => received.find((m) => m.messageId === `<${results[0]!.delivery_id}@localhost>`), 'the mail at the server');
    expect(mail.subject).toContain('Job <42> failed');
    expect(rcpts.get(address)).toBe(2);
    const tier = await p.read(`${p.state.h.tidings.topics.deliveryEmailRetry}.100ms`);
    expect(tier.filter((r) => r.value?.delivery_id === results[0]!.delivery_id).map((r) => [r.value?.attempt, r.headers['x-tidings-attempt']])).toEqual([[2, '2']]);
  });

  it('dead-letters a 550 with the server\'s reason and never tries again', async () => {
    const address = `never-${randomUUID()}@example.test`;
    const user = await p.recipient(address);
    await p.post(user);
    const [result] = await p.results(user, 1);
    expect(result).toMatchObject({ attempt: 1, outcome: 'failed', status: 550 });
    const letter = await waitFor(async () => (await p.read(p.state.h.tidings.topics.deliveryEmailDlq)).find((r) => r.value?.user_id === user), 'the dead letter');
    expect(letter.headers).toMatchObject({ 'x-tidings-error-code': 'TIDINGS_EMAIL_REFUSED', 'x-tidings-status': '550', 'x-tidings-attempts': '1', 'x-tidings-processor': 'email' });
    expect(letter.headers['x-tidings-error-reason']).toContain('no such user');
    expect(rcpts.get(address)).toBe(1);
    await waitForConsumed(p.state.h, 'email', p.state.h.tidings.topics.deliveryEmail);
    expect(await p.results(user, 1)).toHaveLength(1);
    expect(rcpts.get(address)).toBe(1);
  });
});

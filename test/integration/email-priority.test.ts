/**
 * The rate limit and the priority lane through the pipeline: with 5 e-mails a
 * second allowed, a burst of bulk e-mails is sent no faster than that, none is
 * dropped or pushed into the retry tiers (consumption waits), and a mandatory
 * e-mail published mid-burst for a user whose own bulk e-mails are still
 * queued goes out at the next free slot, ahead of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createCodec } from '../../src/kafka/codec.ts';
import type { DeliveryResult } from '../../src/model/routing.ts';
import { callApi, isolatedSettings, readTopic, startWith, waitFor, waitForConsumed, waitUntilProcessed, type Harness } from './harness.ts';
import { startSmtp, type TestSmtp } from './smtp-servers.ts';

const PER_SECOND = 5;

describe('e-mail rate limit and priority lane', () => {
  let smtp: TestSmtp;
  let h: Harness;
  let admin = '';
  let producer = '';

  beforeAll(async () => {
    smtp = await startSmtp();
    const settings = await isolatedSettings({
      TIDINGS_ROLES: 'ingest,api,dedupe,router,projector,email', SMTP_URL: smtp.url, TIDINGS_EMAIL_RETRY_SCHEDULE: '200ms,200ms',
      TIDINGS_EMAIL_RATE_PER_SECOND: String(PER_SECOND), LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    });
    h = await startWith({ ...settings, endpoints: { ...settings.endpoints, smtpUrl: smtp.url } });
    admin = await h.auth.sign({ userId: 'root', roles: ['admin'] });
    producer = await h.auth.sign({ userId: 'producer', roles: ['producer'] });
  });
  afterAll(async () => {
    await h?.stop();
    await smtp?.close();
  });

  const post = async (user: string, type: string, title: string) => {
    const posted = await callApi(h, 'POST', '/v1/events', producer, { user_id: user, type, title, message: 'm', source_type: 'test', source_id: randomUUID() });
    expect(posted.status).toBe(202);
  };

  it('holds 5 per second over a burst, sends every bulk e-mail first time, and a mandatory one overtakes the user\'s own queued bulk e-mails', async () => {
    // One user with most of the burst (so the mandatory e-mail shares its partition with queued bulk ones), two with a few.
    const counts = [20, 5, 5];
    const users = counts.map(() => `u-${randomUUID()}`);
    const warm = `u-${randomUUID()}`;
    const addressOf = new Map(users.map((user) => [user, `${user}@example.test`]));
    for (const user of [...users, warm]) {
      expect((await callApi(h, 'PUT', `/v1/recipients/${user}`, admin, { email: addressOf.get(user) ?? `${warm}@example.test`, display_name: 'R', locale: 'en' })).status).toBe(202);
    }
    await waitForConsumed(h, 'router', h.tidings.topics.recipients);
    await waitUntilProcessed(h);
    // Five e-mails first, so that the transport's pooled connections are open and the burst's times at the server are its sends'.
    for (let i = 0; i < PER_SECOND; i++) await post(warm, 'job_failed', `warm-up ${i}`);
    await waitFor(() => (smtp.received.length >= PER_SECOND ? smtp.received.splice(0) : undefined), 'the warm-up e-mails');

    const heavy = users[0]!;
    for (let i = 0; i < counts[0]!; i++) {
      await post(heavy, 'job_failed', `bulk ${i}`);
      if (i < 5) await post(users[1]!, 'job_failed', `bulk ${i}`);
      if (i < 5) await post(users[2]!, 'job_failed', `bulk ${i}`);
    }
    const bulkTotal = counts.reduce((a, b) => a + b, 0);
    await waitFor(() => (smtp.received.length >= PER_SECOND ? true : undefined), 'the first bulk e-mails');
    await post(heavy, 'security_password_changed', 'mandatory');

    const isMandatory = (r: (typeof smtp.received)[number]) => r.mail.subject?.includes('Your password was changed') ?? false;
    await waitFor(() => smtp.received.find(isMandatory), 'the mandatory e-mail', 60_000);
    await waitFor(() => (smtp.received.length >= bulkTotal + 1 ? true : undefined), `all ${bulkTotal + 1} e-mails`, 60_000);

    const order = [...smtp.received].sort((a, b) => a.at - b.at);
    const position = order.findIndex(isMandatory);
    const heavyAfter = order.slice(position + 1).filter((r) => r.mail.to && JSON.stringify(r.mail.to).includes(addressOf.get(heavy)!));
    // Its user's bulk e-mails were all published before it and are in its partition: it went ahead of them.
    expect(heavyAfter.length).toBeGreaterThan(0);
    expect(order.length - position - 1).toBeGreaterThanOrEqual(5);

    // Never more than 5 in a second at the server (800 ms windows, for the time a send takes from admission to DATA's end).
    for (let i = 0; i < order.length; i++) {
      const inWindow = order.filter((r) => r.at >= order[i]!.at && r.at < order[i]!.at + 800).length;
      expect(inWindow, `e-mails within 800 ms of #${i}`).toBeLessThanOrEqual(PER_SECOND);
    }
    // 31 e-mails at 5 a second span six seconds at least (five slots a second, the first five at once).
    expect(order[order.length - 1]!.at - order[0]!.at).toBeGreaterThanOrEqual((Math.ceil((bulkTotal + 1) / PER_SECOND) - 1) * 1_000 - 300);
    expect(new Set(order.map((r) => r.mail.messageId)).size).toBe(bulkTotal + 1);

    // Every e-mail was sent on its first attempt: while the limit held, consumption waited instead of timing out into the retry tiers.
    const codec = createCodec(h.endpoints.schemaRegistryUrl);
    const results = await waitFor(async () => {
      const mine = (await readTopic(h.endpoints.kafkaBrokers, h.tidings.topics.deliveryResults, (v) => codec.decode('DeliveryResult', v)))
        .map((r) => r.value).filter((r): r is DeliveryResult => r !== null && users.includes(r.user_id));
      return mine.length >= bulkTotal + 1 ? mine : undefined;
    }, 'the delivery results');
    expect(results.map((r) => `${r.attempt}:${r.outcome}`)).toEqual(Array.from({ length: bulkTotal + 1 }, () => '1:sent'));
  });
});

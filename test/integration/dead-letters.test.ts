/**
 * Dead letters for operators on the real stack: letters made by real failures
 * (an undecodable event that dedupe dead-letters, a webhook that answers 500
 * until its last attempt), listed over HTTP with filters and pages, redriven
 * once (a second redrive skips them), the webhook redrive reaching its receiver
 * with the same webhook-id, and the same through `tidings dlq`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createSecretBox, webhookSecretContext } from '../../src/secret-box.ts';
import { ENDPOINT_DEFAULTS } from '../../src/model/routing.ts';
import { generateSecret } from '../../src/api/webhooks.ts';
import { REDRIVE_OF_HEADER } from '../../src/kafka/dead-letter-view.ts';
import { createCodec } from '../../src/kafka/codec.ts';
import type { DeliveryCommand } from '../../src/model/routing.ts';
import { callApi, isolatedSettings, readTopic, startWith, waitFor, waitForConsumed, waitUntilProcessed, type Harness } from './harness.ts';
import { startReceiver, type Receiver } from './receivers.ts';
import { runTidings } from './tidings-process.ts';

describe('dead letters', () => {
  let h: Harness;
  let env: Record<string, string>;
  let receiver: Receiver; // on 127.0.0.2, which the tests allow
  let admin: string;
  let user: string;

  beforeAll(async () => {
    receiver = await startReceiver('127.0.0.2');
    const settings = await isolatedSettings({
      TIDINGS_ROLES: 'ingest,api,dedupe,router,projector,webhook',
      TIDINGS_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.2/32',
      TIDINGS_WEBHOOK_RETRY_SCHEDULE: '50ms',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    });
    env = settings.env;
    h = await startWith(settings);
    admin = await h.auth.sign({ userId: 'ops-1', roles: ['admin'] });
    user = await h.auth.sign({ userId: 'someone', roles: ['producer'] });
  });
  afterAll(async () => {
    await h?.stop();
    await receiver?.close();
  });

  /** Publishes a record dedupe cannot decode, keyed by a source key for `userId`. */
  const poison = (userId: string) => h.tidings.publisher.publishRaw(h.tidings.topics.events, `job:${randomUUID()}:job_failed:${userId}`, Buffer.from(`not avro for ${userId}`), { 'x-origin': 'test' });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, whose shape each test asserts
  const list = async (topic: string, query = ''): Promise<any> => {
    const answer = await callApi(h, 'GET', `/v1/admin/dead-letters/${topic}${query}`, admin);
    expect(answer.status).toBe(200);
    return answer.body;
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
  const lettersFor = (topic: string, query: string, count: number): Promise<any[]> =>
    waitFor(async () => {
      const { letters } = await list(topic, query);
      return letters.length >= count ? letters : undefined;
    }, `${count} letter(s) of ${topic}${query}`);

  it('lists undecodable events newest first with their reason, filtered by user and paged by cursor; admins only', async () => {
    const [a, b] = [`a-${randomUUID()}`, `b-${randomUUID()}`];
    await poison(a);
    await poison(b);
    await poison(a);
    const all = await lettersFor('events', '', 3);
    expect(all).toHaveLength(3);
    expect(all.map((l) => Date.parse(l.timestamp))).toEqual([...all.map((l) => Date.parse(l.timestamp))].sort((x, y) => y - x));
    expect(all[0]).toMatchObject({
      error_code: expect.stringMatching(/^TIDINGS_/), processor: 'dedupe', redriven_at: null,
      original: { topic: h.tidings.topics.events, partition: expect.any(Number), offset: expect.any(String) },
      value: { bytes: expect.any(Number), base64: expect.any(String), truncated: false },
    });
    expect(Buffer.from(all.find((l) => l.key.endsWith(`:${b}`)).value.base64, 'base64').toString()).toBe(`not avro for ${b}`);

    const mine = (await list('events', `?user_id=${a}`)).letters;
    expect(mine).toHaveLength(2);
    expect(mine.every((l: { key: string }) => l.key.endsWith(`:${a}`))).toBe(true);
    expect((await list('events', '?code=TIDINGS_NO_SUCH_CODE')).letters).toEqual([]);

    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 5; page++) {
      const body = await list('events', `?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...body.letters.map((l: { partition: number; offset: string }) => `${l.partition}:${l.offset}`));
      cursor = body.next_cursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(all.map((l) => `${l.partition}:${l.offset}`));
    expect((await callApi(h, 'GET', '/v1/admin/dead-letters/events?cursor=bm9wZQ', admin)).status).toBe(400);

    expect((await callApi(h, 'GET', '/v1/admin/dead-letters/events', user)).status).toBe(403);
    expect((await callApi(h, 'POST', '/v1/admin/dead-letters/events/redrive', user, { all: true })).status).toBe(403);
    expect((await callApi(h, 'GET', '/v1/admin/dead-letters/nope', admin)).status).toBe(400);
  });

  it('redrives one event letter to notification.events with its key, headers and x-tidings-redrive-of, once', async () => {
    const c = `c-${randomUUID()}`;
    await poison(c);
    const [letter] = await lettersFor('events', `?user_id=${c}`, 1);
    const body = { letters: [{ partition: letter.partition, offset: letter.offset }] };
    const first = await callApi(h, 'POST', '/v1/admin/dead-letters/events/redrive', admin, body);
    expect(first).toMatchObject({ status: 202, body: { redriven: 1, skipped: 0, refused: [] } });
    const again = await callApi(h, 'POST', '/v1/admin/dead-letters/events/redrive', admin, body);
    expect(again).toMatchObject({ status: 202, body: { redriven: 0, skipped: 1 } });
    const marked = (await list('events', `?user_id=${c}`)).letters.find((l: { offset: string; partition: number }) => l.offset === letter.offset && l.partition === letter.partition);
    expect(marked).toMatchObject({ redriven_by: 'ops-1', redriven_to: 'notification.events' });
    expect(Date.parse(marked.redriven_at)).toBeGreaterThan(0);
    const back = (await readTopic(h.endpoints.kafkaBrokers, h.tidings.topics.events, async (v) => v.toString()))
      .filter((r) => r.headers[REDRIVE_OF_HEADER] === `${h.tidings.topics.eventsDlq}:${letter.partition}:${letter.offset}`);
    expect(back).toHaveLength(1);
    expect(back[0]).toMatchObject({ key: letter.key, value: `not avro for ${c}`, headers: { 'x-origin': 'test' } });
    expect(back[0]!.headers['x-tidings-error-code']).toBeUndefined();
    const missing = await callApi(h, 'POST', '/v1/admin/dead-letters/events/redrive', admin, { letters: [{ partition: 0, offset: '999999' }] });
    expect(missing.status).toBe(404);
    expect((await callApi(h, 'POST', '/v1/admin/dead-letters/events/redrive', admin, { all: true, endpoint_id: 'x' })).status).toBe(400);
  });

  it('redrives a webhook delivery that failed its last attempt: same webhook-id, never showing its secret', async () => {
    const owner = `u-${randomUUID()}`;
    const path = `/hook-${owner}`;
    const requested = `${path}?token=hush`; // as the receiver sees it
    receiver.answer(requested, { status: 500 });
    const secret = generateSecret();
    await h.tidings.publisher.publish(h.tidings.topics.webhooks, owner, {
      user_id: owner, updated_at: Date.now(),
      endpoints: [{ ...ENDPOINT_DEFAULTS, id: 'main', url: `${receiver.url}${requested}`, format: 'generic', enabled: true, types: [], headers: { authorization: 'Bearer hush' },
        secret_encrypted: createSecretBox(h.endpoints.secretKey).seal(secret, webhookSecretContext(owner, 'main')) }],
    });
    await waitForConsumed(h, 'router', h.tidings.topics.webhooks);
    await waitUntilProcessed(h);
    const posted = await callApi(h, 'POST', '/v1/events', user, { user_id: owner, type: 'job_failed', title: 'Job failed', message: 'exit 1', source_type: 'job', source_id: randomUUID() });
    expect(posted.status).toBe(202);

    const [letter] = await lettersFor('webhook', `?endpoint_id=main&user_id=${owner}`, 1);
    expect(receiver.at(requested)).toHaveLength(2); // the first attempt and the one retry of the schedule
    const webhookId = receiver.at(requested)[0]!.headers['webhook-id'];
    expect(letter).toMatchObject({
      key: owner, error_code: 'TIDINGS_WEBHOOK_ATTEMPTS_EXHAUSTED', status: 500, attempts: 2, redriven_at: null,
      delivery: { delivery_id: webhookId, attempt: 2, webhook: { endpoint_id: 'main', origin: receiver.url, header_names: ['authorization'], signed: true } },
      value: { withheld: expect.any(String) },
    });
    const shown = JSON.stringify(letter);
    for (const hidden of ['secret_encrypted', 'hush', path]) expect(shown).not.toContain(hidden);

    receiver.answer(requested, { status: 200 });
    const redriven = await callApi(h, 'POST', '/v1/admin/dead-letters/webhook/redrive', admin, { endpoint_id: 'main' });
    expect(redriven).toMatchObject({ status: 202, body: { redriven: 1, skipped: 0 } });
    const [, , third] = await waitFor(() => (receiver.at(requested).length >= 3 ? receiver.at(requested) : undefined), 'the redriven delivery');
    expect(third!.headers['webhook-id']).toBe(webhookId);
    expect((await callApi(h, 'POST', '/v1/admin/dead-letters/webhook/redrive', admin, { endpoint_id: 'main' })).body).toMatchObject({ redriven: 0, skipped: 1 });
    const [again] = await lettersFor('webhook', `?endpoint_id=main&user_id=${owner}`, 1);
    expect(again.redriven_at).not.toBeNull();
  });

  it('lists an e-mail letter with its address masked (API and `tidings dlq list email`) and redrives it as attempt 1 with the same delivery id', async () => {
    const owner = `u-${randomUUID()}`;
    const address = `mailbox-${randomUUID()}@example.test`;
    const now = Date.now();
    const command: DeliveryCommand = {
      delivery_id: randomUUID(), channel: 'email', user_id: owner, email: { address, display_name: 'Private Name', locale: 'en' }, webhook: null, attempt: 3, created_at: now,
      notification: {
        id: randomUUID(), user_id: owner, type: 'job_failed', category: 'job', severity: 'error', title: 'Job failed', message: 'exit 1', data: '{}',
        action_url: null, source_type: 'job', source_id: randomUUID(), source_key: 'k', event_id: null, occurred_at: now, created_at: now, expires_at: null,
      },
    };
    // As the e-mail lane dead-letters a 550.
    await h.tidings.publisher.publish(h.tidings.topics.deliveryEmailDlq, owner, command, {
      'x-tidings-error-code': 'TIDINGS_EMAIL_REFUSED', 'x-tidings-error-reason': '550 mailbox unavailable', 'x-tidings-status': '550', 'x-tidings-attempts': '3',
      'x-tidings-original-topic': h.tidings.topics.deliveryEmail, 'x-tidings-processor': 'email',
    });
    const [letter] = await lettersFor('email', `?user_id=${owner}`, 1);
    expect(letter).toMatchObject({
      key: owner, error_code: 'TIDINGS_EMAIL_REFUSED', status: 550, attempts: 3, redriven_at: null, value: { withheld: expect.any(String) },
      delivery: { delivery_id: command.delivery_id, channel: 'email', attempt: 3, webhook: null, email: { address: 'm***@example.test', locale: 'en' } },
    });
    for (const hidden of [address, 'Private Name']) expect(JSON.stringify(letter)).not.toContain(hidden);

    const listed = await runTidings(['dlq', 'list', 'email', '--user', owner], env);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain('to=m***@example.test');
    expect(listed.stdout).not.toContain(address);

    const redriven = await callApi(h, 'POST', '/v1/admin/dead-letters/email/redrive', admin, { letters: [{ partition: letter.partition, offset: letter.offset }] });
    expect(redriven).toMatchObject({ status: 202, body: { redriven: 1, skipped: 0 } });
    const codec = createCodec(h.endpoints.schemaRegistryUrl);
    const [again] = await waitFor(async () => {
      const found = (await readTopic(h.endpoints.kafkaBrokers, h.tidings.topics.deliveryEmail, (v) => codec.decode('DeliveryCommand', v))).filter((r) => r.value?.delivery_id === command.delivery_id);
      return found.length > 0 ? found : undefined;
    }, 'the redriven e-mail delivery');
    expect(again!.value).toEqual({ ...command, attempt: 1 });
    expect(again!.headers[REDRIVE_OF_HEADER]).toBe(`${h.tidings.topics.deliveryEmailDlq}:${letter.partition}:${letter.offset}`);
    expect((await callApi(h, 'POST', '/v1/admin/dead-letters/email/redrive', admin, { all: true })).body).toMatchObject({ redriven: 0, skipped: 1 });
  });

  it('`tidings dlq list` prints a line per letter and `tidings dlq redrive` the counts, skipping a letter redriven before', async () => {
    const d = `d-${randomUUID()}`;
    await poison(d);
    const [letter] = await lettersFor('events', `?user_id=${d}`, 1);
    const listed = await runTidings(['dlq', 'list', 'events', '--user', d], env);
    expect(listed.code, listed.stderr).toBe(0);
    const lines = listed.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^${letter.partition}:${letter.offset}  \\S+  TIDINGS_\\w+  key=\\S+:${d}  not-redriven  "`));
    expect(lines[1]).toContain('1 letter(s) of');
    const ref = `${letter.partition}:${letter.offset}`;
    const first = await runTidings(['dlq', 'redrive', 'events', ref], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('redriven 1, skipped 0');
    const second = await runTidings(['dlq', 'redrive', 'events', ref], env);
    expect(second.stdout).toContain('redriven 0, skipped 1');
    const after = await runTidings(['dlq', 'list', 'events', '--user', d, '--limit', '5'], env);
    expect(after.stdout).toMatch(new RegExp(`^${ref}  .*redriven=`, 'm'));
    const usage = await runTidings(['dlq', 'redrive', 'events'], env);
    expect(usage.code).toBe(2);
  });
});

import { describe, expect, it } from 'vitest';
import { topicNames } from '../../src/kafka/topics.ts';
import {
  decodeLetterCursor, deliveryView, displaySchema, DLQ_NAMES, encodeLetterCursor, lastKeyPart, letterView, maskAddress, matchesFilter, pageNewestFirst, parseLetterRef, planRedrive,
  REDRIVE_OF_HEADER, VALUE_PREVIEW_BYTES, bytesView, type Letter, type PartitionWindow,
} from '../../src/kafka/dead-letter-view.ts';
import { parseDlqArgs } from '../../src/cli/dlq.ts';
import type { DeliveryCommand } from '../../src/model/routing.ts';
import { ValidationError } from '../../src/errors.ts';

const names = topicNames('p.');

const command: DeliveryCommand = {
  delivery_id: 'd-1', channel: 'webhook', user_id: 'u-1', email: null, attempt: 4, created_at: 1_700_000_000_000,
  webhook: {
    endpoint_id: 'w-1', url: 'https://hooks.example.test/services/T0/B0/XXSECRET?token=abc', format: 'slack', secret_encrypted: 'sealed', global: false,
    headers: { authorization: 'Bearer abc' }, timeout_ms: 5_000, previous_secret_encrypted: 'old-sealed', previous_secret_expires_at: 1,
  },
  notification: {
    id: 'n-1', user_id: 'u-1', type: 'job_failed', category: 'job', severity: 'error', title: 'Job failed', message: 'It broke.', data: '{}', action_url: null,
    source_type: 'job', source_id: 'j-1', source_key: 'job:j-1:job_failed:u-1', event_id: null, occurred_at: 1, created_at: 2,
  },
};

const emailCommand: DeliveryCommand = {
  ...command, delivery_id: 'd-2', channel: 'email', webhook: null, attempt: 3,
  email: { address: 'alice.secret@example.test', display_name: 'Alice Secret', locale: 'en' },
};

function letter(partition: number, offset: number, timestamp: number, extra: Partial<Letter> = {}): Letter {
  return { partition, offset: BigInt(offset), timestamp, key: 'u-1', value: Buffer.from('x'), headers: {}, ...extra };
}

const dlqHeaders = {
  'x-origin': 'kept', 'x-tidings-error-code': 'TIDINGS_DECODE', 'x-tidings-error-reason': 'bad', 'x-tidings-original-topic': names.accepted,
  'x-tidings-original-partition': '1', 'x-tidings-original-offset': '7', 'x-tidings-original-timestamp': '1', 'x-tidings-processor': 'router',
  'x-tidings-dead-lettered-at': '2026-01-01T00:00:00.000Z',
};

describe('dead letter cursor', () => {
  it('round-trips per-partition positions', () => {
    const positions = new Map([[0, 12n], [1, 0n], [5, 9_007_199_254_740_993n]]);
    expect(decodeLetterCursor(encodeLetterCursor(positions))).toEqual(positions);
    expect(decodeLetterCursor(undefined)).toBeUndefined();
  });

  it.each([
    ['not base64 JSON', 'bm9wZQ'],
    ['an empty list', Buffer.from('[]').toString('base64url')],
    ['a negative partition', Buffer.from('[[-1,"3"]]').toString('base64url')],
    ['an offset that is a number', Buffer.from('[[0,3]]').toString('base64url')],
    ['a signed offset', Buffer.from('[[0,"-3"]]').toString('base64url')],
    ['a partition twice', Buffer.from('[[0,"1"],[0,"2"]]').toString('base64url')],
  ])('refuses %s', (_what, cursor) => {
    expect(() => decodeLetterCursor(cursor)).toThrow(ValidationError);
  });
});

describe('pageNewestFirst', () => {
  const window = (partition: number, letters: Letter[], floor: bigint, low = 0n, upper = 100n): PartitionWindow => ({ partition, letters, floor, low, upper });

  it('merges partitions by time, newest first, and gives the next positions', () => {
    const w0 = window(0, [letter(0, 9, 900), letter(0, 5, 500)], 0n);
    const w1 = window(1, [letter(1, 3, 700), letter(1, 1, 100)], 0n);
    const { page, next } = pageNewestFirst([w0, w1], 3);
    expect(page.map((l) => [l.partition, Number(l.offset)])).toEqual([[0, 9], [1, 3], [0, 5]]);
    expect(next).toEqual(new Map([[0, 0n], [1, 3n]]));
  });

  it('has no next page once every partition is read to its first offset', () => {
    const { page, next } = pageNewestFirst([window(0, [letter(0, 2, 2)], 0n), window(1, [], 0n)], 5);
    expect(page).toHaveLength(1);
    expect(next).toBeNull();
  });

  it('stops early where a window ends above its partition\'s start, and continues below it', () => {
    const w0 = window(0, [letter(0, 50, 50)], 40n, 0n);
    const w1 = window(1, [letter(1, 9, 60), letter(1, 8, 10)], 0n);
    const { page, next } = pageNewestFirst([w0, w1], 10);
    expect(page.map((l) => Number(l.offset))).toEqual([9, 50]);
    expect(next).toEqual(new Map([[0, 40n], [1, 9n]]));
  });
});

describe('filters', () => {
  it('matches a user by key or by the user part of a source key, escapes included', () => {
    expect(lastKeyPart('job:42:job_failed:alice')).toBe('alice');
    expect(lastKeyPart('job:a\\:b:t:us\\:er')).toBe('us:er');
    expect(lastKeyPart('bob')).toBe('bob');
    expect(matchesFilter(letter(0, 0, 0, { key: 'job:1:t:alice' }), { userId: 'alice' })).toBe(true);
    expect(matchesFilter(letter(0, 0, 0, { key: 'job:1:t:x\\:alice' }), { userId: 'alice' })).toBe(false);
    expect(matchesFilter(letter(0, 0, 0, { key: null }), { userId: 'alice' })).toBe(false);
  });

  it('matches the endpoint of a webhook letter and the error code', () => {
    expect(matchesFilter(letter(0, 0, 0, { command }), { endpointId: 'w-1' })).toBe(true);
    expect(matchesFilter(letter(0, 0, 0), { endpointId: 'w-1' })).toBe(false);
    expect(matchesFilter(letter(0, 0, 0, { headers: { 'x-tidings-error-code': 'A' } }), { code: 'A' })).toBe(true);
    expect(matchesFilter(letter(0, 0, 0, { headers: { 'x-tidings-error-code': 'A' } }), { code: 'B' })).toBe(false);
  });
});

describe('letter views', () => {
  it('never shows a webhook target\'s secrets, URL path or header values', () => {
    const shown = JSON.stringify(letterView(letter(0, 3, 0, { command }), { bytes: 10, withheld: 'secrets' }, undefined));
    for (const hidden of ['sealed', 'XXSECRET', 'token=abc', 'Bearer abc', 'secret_encrypted']) expect(shown).not.toContain(hidden);
    expect(deliveryView(command)).toMatchObject({ webhook: { origin: 'https://hooks.example.test', header_names: ['authorization'], signed: true } });
  });

  it('masks an e-mail letter\'s address and leaves out the display name', () => {
    const view = letterView(letter(0, 3, 0, { command: emailCommand }), { bytes: 10, withheld: 'addresses' }, undefined);
    expect(view).toMatchObject({ delivery: { delivery_id: 'd-2', channel: 'email', attempt: 3, webhook: null, email: { address: 'a***@example.test', locale: 'en' } } });
    const shown = JSON.stringify(view);
    for (const hidden of ['alice.secret', 'Alice Secret']) expect(shown).not.toContain(hidden);
  });

  it.each([
    ['alice@example.test', 'a***@example.test'], ['a@example.test', 'a***@example.test'], ['@example.test', '***@example.test'],
    ['"odd@local"@example.test', '"***@example.test'], ['no-at-sign', '***'], ['', '***'],
  ])('masks %j as %j', (address, masked) => {
    expect(maskAddress(address)).toBe(masked);
  });

  it('shows the reason headers and the redrive', () => {
    const view = letterView(letter(2, 5, 0, { headers: dlqHeaders }), null, { dlq_topic: 'x', partition: 2, offset: '5', redriven_to: 'notification.accepted', redriven_at: 0, by: 'ops' });
    expect(view).toMatchObject({
      partition: 2, offset: '5', error_code: 'TIDINGS_DECODE', processor: 'router', original: { topic: names.accepted, partition: 1, offset: '7' },
      redriven_at: '1970-01-01T00:00:00.000Z', redriven_to: 'notification.accepted', redriven_by: 'ops',
    });
  });

  it('caps undecoded bytes and withholds values of schemas that hold secrets', () => {
    expect(bytesView(Buffer.alloc(VALUE_PREVIEW_BYTES + 1))).toMatchObject({ bytes: VALUE_PREVIEW_BYTES + 1, truncated: true });
    expect(Buffer.from((bytesView(Buffer.alloc(VALUE_PREVIEW_BYTES + 1)) as { base64: string }).base64, 'base64')).toHaveLength(VALUE_PREVIEW_BYTES);
    expect(displaySchema(names, letter(0, 0, 0, { headers: { 'x-tidings-original-topic': names.webhooks } }))).toHaveProperty('withheld');
    expect(displaySchema(names, letter(0, 0, 0, { headers: { 'x-tidings-original-topic': names.accepted } }))).toEqual({ schema: 'Notification' });
    expect(displaySchema(names, letter(0, 0, 0))).toBeUndefined();
  });
});

describe('planRedrive', () => {
  it('sends a webhook delivery again as a first attempt with the same delivery id', () => {
    const plan = planRedrive('webhook', letter(1, 8, 0, { command }), names);
    expect(plan).toEqual({ kind: 'delivery', to: 'deliveryWebhook', command: { ...command, attempt: 1 }, headers: { [REDRIVE_OF_HEADER]: `${names.deliveryWebhookDlq}:1:8` } });
    expect(planRedrive('webhook', letter(1, 8, 0), names)).toMatchObject({ kind: 'refused' });
  });

  it('sends an e-mail delivery again to notification.delivery.email as a first attempt with the same delivery id (the same Message-ID)', () => {
    const plan = planRedrive('email', letter(2, 9, 0, { command: emailCommand }), names);
    expect(plan).toEqual({ kind: 'delivery', to: 'deliveryEmail', command: { ...emailCommand, attempt: 1 }, headers: { [REDRIVE_OF_HEADER]: `${names.deliveryEmailDlq}:2:9` } });
    expect(planRedrive('email', letter(2, 9, 0), names)).toMatchObject({ kind: 'refused', reason: 'its value is not a DeliveryCommand' });
  });

  it('writes other letters back to their original topic with the original headers only', () => {
    const plan = planRedrive('accepted', letter(0, 4, 0, { headers: dlqHeaders }), names);
    expect(plan).toEqual({ kind: 'raw', to: 'accepted', key: 'u-1', value: Buffer.from('x'), headers: { 'x-origin': 'kept', [REDRIVE_OF_HEADER]: `${names.acceptedDlq}:0:4` } });
    expect(planRedrive('accepted', letter(0, 4, 0, { headers: { ...dlqHeaders, 'x-tidings-original-topic': names.inbox } }), names)).toMatchObject({ kind: 'raw', to: 'inbox' });
    expect(planRedrive('events', letter(0, 4, 0), names)).toMatchObject({ kind: 'raw', to: 'events' });
  });

  it('refuses letters of compacted topics, and letters without a value', () => {
    expect(planRedrive('accepted', letter(0, 4, 0, { headers: { ...dlqHeaders, 'x-tidings-original-topic': names.preferences } }), names)).toMatchObject({ kind: 'refused' });
    expect(planRedrive('events', letter(0, 4, 0, { value: null, headers: { 'x-tidings-value-dropped': '9 bytes' } }), names)).toEqual({ kind: 'refused', reason: 'its value was too large to keep' });
  });
});

describe('tidings dlq arguments', () => {
  it('parses list and redrive', () => {
    expect(parseDlqArgs(['list', 'webhook', '--limit', '5', '--endpoint', 'w-1', '--user', 'u'])).toEqual({
      action: 'list', dlq: 'webhook', limit: 5, filter: { userId: 'u', endpointId: 'w-1', code: undefined }, cursor: undefined,
    });
    expect(parseDlqArgs(['redrive', 'events', '--all'])).toEqual({ action: 'redrive', dlq: 'events', selection: { all: true }, force: false });
    expect(parseDlqArgs(['redrive', 'webhook', '--endpoint', 'w-1', '--force'])).toMatchObject({ selection: { endpointId: 'w-1' }, force: true });
    expect(parseDlqArgs(['redrive', 'accepted', '0:12', '3:0007'])).toMatchObject({ selection: { letters: [{ partition: 0, offset: '12' }, { partition: 3, offset: '7' }] } });
    expect(parseLetterRef('1:x')).toBeUndefined();
    expect(DLQ_NAMES).toContain('email');
    expect(parseDlqArgs(['list', 'email', '--user', 'u'])).toMatchObject({ action: 'list', dlq: 'email', filter: { userId: 'u' } });
    expect(parseDlqArgs(['redrive', 'email', '0:3'])).toMatchObject({ action: 'redrive', dlq: 'email', selection: { letters: [{ partition: 0, offset: '3' }] } });
  });

  it.each([
    [['show', 'events']], [['list', 'nope']], [['list', 'events', '--limit', '0']], [['list', 'events', '--limit']], [['list', 'events', '0:1']],
    [['redrive', 'events']], [['redrive', 'events', '--all', '0:1']], [['redrive', 'events', 'zero']], [['redrive', 'events', '--all', '--user', 'u']],
    [['list', 'events', '--bogus']],
  ])('refuses %j', (args) => {
    expect(parseDlqArgs(args)).toHaveProperty('error');
  });
});

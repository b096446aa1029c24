/** The producer client's pure part: events built from typed input, keyed and checked before anything is sent. */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.ts';
import { eventKey, sourceKey } from '../../src/model/notification.ts';
import { stableId } from '../../src/model/ids.ts';
import { buildEvent, createProducerClient, prepareEvents, type EventInput, type PreparedEvent, type Transport } from '../../src/producer/index.ts';

const NOW = Date.UTC(2026, 11, 2, 9, 0); // ms
const input: EventInput = { user_id: 'alice', type: 'job_completed', title: 'Job done', message: 'All 3 tasks finished', source_type: 'job', source_id: '42' };

/** A transport that records what it was given: the client's own seam, not a stand-in for Kafka. */
function recordingTransport(): Transport & { got: PreparedEvent[][] } {
  const got: PreparedEvent[][] = [];
  return {
    got,
    async send(events) {
      got.push([...events]);
      return events.map((e, i) => ({ key: e.key, notificationIds: e.notificationIds, partition: 0, offset: String(i) }));
    },
    async close() {},
  };
}

describe('buildEvent', () => {
  it('given the least input, fills in the schema defaults and occurred_at = now', () => {
    expect(buildEvent(input, NOW)).toEqual({
      event_id: null, user_id: 'alice', audience: null, type: 'job_completed', title: 'Job done', message: 'All 3 tasks finished',
      severity: 'info', data: null, action_url: null, source_type: 'job', source_id: '42', occurred_at: NOW,
      deliver_at: null, delay_ms: null, timer_key: null, cancels: [], expires_at: null,
    });
  });

  it('writes data as JSON object text and times given as Dates as ms', () => {
    const event = buildEvent({
      ...input, severity: 'high', data: { job_id: 42, tags: ['a'] }, occurred_at: new Date(NOW - 5_000),
      deliver_at: new Date(NOW + 60_000), delay_ms: 30_000, timer_key: 'agent:7', cancels: ['agent:6'], expires_at: NOW + 86_400_000,
    }, NOW);
    expect(event).toMatchObject({
      severity: 'high', data: '{"job_id":42,"tags":["a"]}', occurred_at: NOW - 5_000,
      deliver_at: NOW + 60_000, delay_ms: 30_000, timer_key: 'agent:7', cancels: ['agent:6'], expires_at: NOW + 86_400_000,
    });
  });

  it('gives an audience the lists it leaves out', () => {
    expect(buildEvent({ ...input, user_id: undefined, audience: { roles: ['admin'] } }, NOW).audience).toEqual({ user_ids: [], roles: ['admin'], topics: [], all: false });
  });

  it('takes a custom type as well as the catalogue\'s', () => {
    expect(buildEvent({ ...input, type: 'invoice_overdue' }, NOW).type).toBe('invoice_overdue');
  });
});

describe('prepareEvents', () => {
  it('keys a one-recipient event by its source key and names its notification id', () => {
    const [prepared] = prepareEvents([{ ...input, source_id: 'urn:job:42' }], NOW);
    const event = prepared?.event;
    expect(event).toBeDefined();
    expect(prepared?.key).toBe(sourceKey(event!, 'alice'));
    expect(prepared?.key).toBe('job:urn\\:job\\:42:job_completed:alice');
    expect(prepared?.notificationIds).toEqual({ alice: stableId(prepared!.key) });
  });

  it('keys an audience event as eventKey does, with an id for each listed user', () => {
    const [prepared] = prepareEvents([{ ...input, user_id: undefined, audience: { user_ids: ['bob', 'carol'], roles: ['admin'] } }], NOW);
    expect(prepared?.key).toBe(eventKey(prepared!.event));
    expect(prepared?.key).toBe('job:42:job_completed:*');
    expect(Object.keys(prepared!.notificationIds)).toEqual(['bob', 'carol']);
  });

  it('refuses an event with every reason at once', () => {
    expect(() => prepareEvents([{ ...input, title: ' ', type: 'Job Completed', data: { bad: '\u0000' }, action_url: 'ftp://x' }], NOW)).toThrow(new ValidationError([
      'title: must not be empty',
      'type: must be lower-case letters, digits, "_", "-" or "." and start with a letter (at most 100)',
      'data: must not contain U+0000 or unpaired surrogates (Postgres cannot store them)',
      'action_url: must be an http(s) URL',
    ]));
  });

  it('refuses what the Avro schema does not take, such as a delay that is not whole ms', () => {
    expect(() => prepareEvents([{ ...input, delay_ms: 1.5 }], NOW)).toThrow('delay_ms: 1.5 is not a valid');
  });

  it('refuses data that cannot be JSON, with the reason', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => prepareEvents([{ ...input, data: cyclic }], NOW)).toThrow(/data: cannot be written as JSON/);
  });

  it('refuses a user_id together with an audience', () => {
    const both = { ...input, audience: { user_ids: ['bob'] } } as unknown as EventInput;
    expect(() => prepareEvents([both], NOW)).toThrow('audience: give either user_id or audience, not both');
  });

  it('in a batch, names the index of each refused event', () => {
    expect(() => prepareEvents([input, { ...input, title: '' }, { ...input, source_id: '' }], NOW))
      .toThrow(new ValidationError(['events.1.title: must not be empty', 'events.2.source_id: must not be empty']));
  });
});

describe('createProducerClient', () => {
  it('sends nothing of a batch in which one event is refused', async () => {
    const transport = recordingTransport();
    const client = createProducerClient({ transport, now: () => NOW });
    await expect(client.sendBatch([input, { ...input, title: '' }])).rejects.toThrow(ValidationError);
    expect(transport.got).toEqual([]);
  });

  it('hands the transport the built, keyed events in order and answers one Sent per event', async () => {
    const transport = recordingTransport();
    const client = createProducerClient({ transport, now: () => NOW });
    const sent = await client.sendBatch([input, { ...input, user_id: 'bob' }]);
    expect(transport.got).toHaveLength(1);
    expect(transport.got[0]?.map((p) => p.key)).toEqual(['job:42:job_completed:alice', 'job:42:job_completed:bob']);
    expect(transport.got[0]?.[0]?.event.occurred_at).toBe(NOW);
    expect(sent.map((s) => s.offset)).toEqual(['0', '1']);
    expect((await client.send(input)).key).toBe('job:42:job_completed:alice');
  });
});

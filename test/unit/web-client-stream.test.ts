import { describe, expect, it } from 'vitest';
import { backoffDelay, createBackoff } from '../../web/client/backoff.ts';
import { createStreamTracker, httpOrigin, isAfter, socketUrl } from '../../web/client/stream.ts';
import { createPending, CommandError } from '../../web/client/pending.ts';

const at = (offset: string, epoch = 'e1') => ({ epoch, offset });

describe('backoff with full jitter', () => {
  const options = { initialMs: 100, maxMs: 1_000 };

  it('given the largest random value, then the delay is just under min(max, initial * 2^attempt)', () => {
    const almostOne = () => 0.999_999;
    expect([0, 1, 2, 3, 4, 5].map((a) => backoffDelay(a, options, almostOne))).toEqual([99, 199, 399, 799, 999, 999]);
  });

  it('given random 0, then the delay is 0 whatever the attempt (full jitter, no floor)', () => {
    expect([0, 3, 10].map((a) => backoffDelay(a, options, () => 0))).toEqual([0, 0, 0]);
  });

  it('given random 0.5, then the delay is half the ceiling', () => {
    expect([0, 1, 2, 3, 4].map((a) => backoffDelay(a, options, () => 0.5))).toEqual([50, 100, 200, 400, 500]);
  });

  it('counts attempts and starts over after reset', () => {
    const backoff = createBackoff(options, () => 0.5);
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([50, 100, 200]);
    expect(backoff.attempt).toBe(3);
    backoff.reset();
    expect(backoff.next()).toBe(50);
  });

  it('refuses options that make no sense', () => {
    expect(() => createBackoff({ initialMs: 0, maxMs: 10 })).toThrow(RangeError);
    expect(() => createBackoff({ initialMs: 100, maxMs: 10 })).toThrow(RangeError);
  });
});

describe('stream position and duplicates', () => {
  it('given new notifications, then each is accepted and its position becomes the last seen', () => {
    const stream = createStreamTracker();
    expect(stream.position).toBeUndefined();
    expect(stream.accept('a', at('5'))).toBe(true);
    expect(stream.accept('b', at('9'))).toBe(true);
    expect(stream.position).toEqual(at('9'));
    expect(stream.dropped).toBe(0);
  });

  it('given the same id again, then it is dropped, whatever its position', () => {
    const stream = createStreamTracker();
    stream.accept('a', at('5'));
    expect(stream.accept('a', at('6'))).toBe(false);
    expect(stream.position).toEqual(at('5'));
    expect(stream.dropped).toBe(1);
  });

  it('given another id at or before the last offset of the epoch, then it is dropped', () => {
    const stream = createStreamTracker(at('10'));
    expect(stream.accept('x', at('10'))).toBe(false);
    expect(stream.accept('y', at('3'))).toBe(false);
    expect(stream.accept('z', at('11'))).toBe(true);
    expect(stream.dropped).toBe(2);
  });

  it('compares offsets as numbers, not as text', () => {
    const stream = createStreamTracker(at('9'));
    expect(stream.accept('a', at('10'))).toBe(true);
    expect(isAfter(at('100000000000000000001'), at('100000000000000000000'))).toBe(true);
  });

  it('given another epoch, then the frame is new and its position is adopted', () => {
    const stream = createStreamTracker(at('500', 'old'));
    expect(stream.accept('a', at('2', 'new'))).toBe(true);
    expect(stream.position).toEqual(at('2', 'new'));
  });

  it('given a frame without position (an older server), then only its id counts', () => {
    const stream = createStreamTracker(at('5'));
    expect(stream.accept('a', undefined)).toBe(true);
    expect(stream.accept('a', undefined)).toBe(false);
    expect(stream.position).toEqual(at('5'));
  });

  it('adopts the position of a connection or resync frame; later frames are judged against it', () => {
    const stream = createStreamTracker(at('5'));
    stream.adopt(at('40'));
    expect(stream.position).toEqual(at('40'));
    expect(stream.accept('a', at('30'))).toBe(false);
  });

  it('forgets old ids past its memory, and offsets still drop their repeats', () => {
    const stream = createStreamTracker();
    for (let i = 0; i < 1_500; i++) stream.accept(`n${i}`, at(String(i)));
    expect(stream.accept('n0', at('0'))).toBe(false);
    expect(stream.accept('n1499', undefined)).toBe(false);
  });
});

describe('resume URL', () => {
  it('given no position, then only the token is added', () => {
    expect(socketUrl('ws://127.0.0.1:3000/v1/ws', 'a.b.c')).toBe('ws://127.0.0.1:3000/v1/ws?token=a.b.c');
  });

  it('given a position, then epoch and offset follow the token, encoded', () => {
    const url = new URL(socketUrl('wss://example.test/v1/ws', 't', { epoch: 'cluster/x:y&z', offset: '42' }));
    expect([url.searchParams.get('token'), url.searchParams.get('epoch'), url.searchParams.get('offset')]).toEqual(['t', 'cluster/x:y&z', '42']);
  });

  it('replaces what an earlier connect put there, keeping other parameters', () => {
    const url = new URL(socketUrl('ws://h/v1/ws?token=old&epoch=e0&offset=1&x=1', 'new', at('7')));
    expect(Object.fromEntries(url.searchParams)).toEqual({ token: 'new', epoch: 'e1', offset: '7', x: '1' });
  });

  it('derives the REST origin from the socket URL', () => {
    expect(httpOrigin('ws://127.0.0.1:3000/v1/ws?token=x')).toBe('http://127.0.0.1:3000');
    expect(httpOrigin('wss://tidings.example.test/v1/ws')).toBe('https://tidings.example.test');
    expect(() => httpOrigin('http://127.0.0.1/v1/ws')).toThrow(TypeError);
  });
});

describe('commands waiting for their answer', () => {
  const ack = (action: 'mark_read' | 'archive' | 'mark_all_read', id: string | null) => ({ type: 'mark_read' as const, action, notification_id: id, at: '2026-01-01T00:00:00.000Z' });

  it('settles each command by its own ack, whatever the order the answers come in', async () => {
    const pending = createPending();
    const read = pending.add('mark_read', 'a');
    const archive = pending.add('archive', 'a');
    const all = pending.add('mark_all_read', null);
    expect(pending.settle(ack('mark_all_read', null))).toBe(true);
    expect(pending.settle(ack('archive', 'a'))).toBe(true);
    expect(pending.settle(ack('mark_read', 'a'))).toBe(true);
    await expect(Promise.all([read, archive, all])).resolves.toEqual([ack('mark_read', 'a'), ack('archive', 'a'), ack('mark_all_read', null)]);
    expect(pending.size).toBe(0);
  });

  it('rejects a command answered with an error frame, and ignores frames nobody waits for', async () => {
    const pending = createPending();
    const read = pending.add('mark_read', 'b');
    expect(pending.settle({ type: 'error', error: 'no such notification', command: 'mark_read', notification_id: 'other' })).toBe(false);
    expect(pending.settle({ type: 'error', error: 'unreadable frame' })).toBe(false);
    expect(pending.settle({ type: 'error', error: 'no such notification', command: 'mark_read', notification_id: 'b' })).toBe(true);
    await expect(read).rejects.toBeInstanceOf(CommandError);
  });

  it('rejects every waiting command when the socket closes', async () => {
    const pending = createPending();
    const both = [pending.add('mark_read', 'a'), pending.add('mark_read', 'a')];
    pending.rejectAll(new Error('closed'));
    for (const p of both) await expect(p).rejects.toThrow('closed');
    expect(pending.size).toBe(0);
  });
});

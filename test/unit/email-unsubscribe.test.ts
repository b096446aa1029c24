import { describe, expect, it } from 'vitest';
import { signUnsubscribe, UnsubscribeTokenError, verifyUnsubscribe } from '../../src/channels/email/unsubscribe.ts';

const secret = 'a-secret-of-the-operator-0123456789';
const claim = { userId: 'user:42', type: 'job_failed', issuedAt: Date.UTC(2025, 0, 2, 3, 4, 5) };
const problemOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(UnsubscribeTokenError);
    expect((err as UnsubscribeTokenError).code).toBe('TIDINGS_UNSUBSCRIBE_INVALID');
    return (err as UnsubscribeTokenError).problem;
  }
};

describe('unsubscribe tokens', () => {
  it('round-trips user, type and issued-at in a url-safe, versioned token', () => {
    const token = signUnsubscribe(claim, secret);
    expect(token).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(encodeURIComponent(token)).toBe(token);
    expect(verifyUnsubscribe(token, secret)).toEqual(claim);
  });

  it('is the same for the same claim and time (every attempt of a delivery links alike)', () => {
    expect(signUnsubscribe(claim, secret)).toBe(signUnsubscribe(claim, secret));
    expect(signUnsubscribe({ ...claim, type: 'job_completed' }, secret)).not.toBe(signUnsubscribe(claim, secret));
  });

  it('refuses a tampered payload or signature', () => {
    const token = signUnsubscribe(claim, secret);
    const [v, payload, sig] = token.split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ u: 'user:43', t: 'job_failed', iat: 1 })).toString('base64url');
    expect(problemOf(() => verifyUnsubscribe(`${v}.${forged}.${sig}`, secret))).toBe('signature');
    const flipped = sig.slice(0, -2) + (sig.at(-2) === 'A' ? 'B' : 'A') + sig.at(-1);
    expect(problemOf(() => verifyUnsubscribe(`${v}.${payload}.${flipped}`, secret))).toBe('signature');
    expect(problemOf(() => verifyUnsubscribe(`${v}.${payload}.${sig.slice(0, 10)}`, secret))).toBe('signature');
  });

  it('refuses a token signed with another secret', () => {
    expect(problemOf(() => verifyUnsubscribe(signUnsubscribe(claim, 'another-secret'), secret))).toBe('signature');
  });

  it('refuses another version and malformed text', () => {
    const token = signUnsubscribe(claim, secret);
    expect(problemOf(() => verifyUnsubscribe(token.replace(/^v1/, 'v2'), secret))).toBe('version');
    for (const bad of ['', 'v1', 'v1.abc', 'v1.a.b.c', 'v1.a b.c', token + '=']) expect(problemOf(() => verifyUnsubscribe(bad, secret))).toBe('malformed');
  });

  it('refuses an empty secret', () => {
    expect(() => signUnsubscribe(claim, '')).toThrow(RangeError);
  });
});

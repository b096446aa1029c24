import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { signatureHeaders } from '../../src/channels/webhook/signing.ts';

const newSecret = (bytes = 32) => `whsec_${randomBytes(bytes).toString('base64')}`;
const body = JSON.stringify({ type: 'job_failed', timestamp: '2024-01-15T10:30:00.000Z', data: { id: 'n1', title: 'Grüße ✓' } });
// The verifier refuses timestamps more than 5 minutes off its clock.
const sign = (secrets: string[], text = body) => signatureHeaders({ id: 'msg_n1', timestampMs: Date.now(), body: text, secrets });

describe('signatureHeaders', () => {
  it('given one secret, when a body is signed, then the official verifier accepts it', () => {
    const secret = newSecret();
    const headers = sign([secret]);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(headers['webhook-id']).toBe('msg_n1');
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  });

  it('given a timestamp in ms, when signed, then the header holds whole seconds', () => {
    const headers = signatureHeaders({ id: 'm', timestampMs: 1_700_000_000_999, body, secrets: [newSecret()] });
    expect(headers['webhook-timestamp']).toBe('1700000000');
  });

  it('given the old and the new secret of a rotation, when signed, then receivers holding either verify', () => {
    const [old, current] = [newSecret(), newSecret(64)];
    const headers = sign([old, current]);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(old).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(current).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(newSecret()).verify(body, headers)).toThrow();
  });

  it('given the same secret twice, when signed, then its signature is sent once', () => {
    const secret = newSecret(24);
    const headers = sign([secret, secret]);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(1);
    expect(() => new Webhook(secret).verify(body, headers)).not.toThrow();
  });

  it('given a signed body, when it is altered in transit, then verification fails', () => {
    const secret = newSecret();
    const headers = sign([secret]);
    expect(() => new Webhook(secret).verify(body.replace('job_failed', 'job_completed'), headers)).toThrow(/signature/i);
  });

  it.each([
    ['no prefix', randomBytes(32).toString('base64')],
    ['not base64', 'whsec_not*base64!not*base64!not*base64!not*base64!'],
    ['too short', `whsec_${randomBytes(16).toString('base64')}`],
    ['too long', `whsec_${randomBytes(65).toString('base64')}`],
    ['empty', 'whsec_'],
  ])('given a malformed secret (%s), when signing, then a TypeError is thrown', (_case, secret) => {
    expect(() => sign([newSecret(), secret])).toThrow(TypeError);
  });

  it('given a malformed secret, when signing fails, then the message does not repeat the secret', () => {
    const secret = 'whsec_c2hvcnQ=';
    const error = (() => { try { sign([secret]); } catch (e) { return e; } })();
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).not.toContain('c2hvcnQ');
  });

  it('given no secrets, when signing, then a TypeError is thrown rather than an unsigned request', () => {
    expect(() => sign([])).toThrow(TypeError);
  });
});

import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createSecretBox, openHeaders, sealHeaders, webhookSecretContext } from '../../src/secret-box.ts';
import { generateSecret } from '../../src/api/webhooks.ts';
import { endpointProblems } from '../../src/api/webhook-validation.ts';

const key = randomBytes(32).toString('base64');

describe('secret box', () => {
  it('given a sealed secret, when opened with the same key and context, then it is the plain text', () => {
    const box = createSecretBox(key);
    const sealed = box.seal('whsec_abc', 'ctx');
    expect(sealed).toMatch(/^v1\.[\w-]{16}\.[\w-]+$/);
    expect(sealed).not.toContain('abc');
    expect(box.open(sealed, 'ctx')).toBe('whsec_abc');
  });

  it('given the same secret sealed twice, then the two differ (a fresh nonce each time)', () => {
    const box = createSecretBox(key);
    expect(box.seal('s', 'ctx')).not.toBe(box.seal('s', 'ctx'));
  });

  it('given another context, another key, or an altered byte, when opened, then it refuses', () => {
    const box = createSecretBox(key);
    const sealed = box.seal('whsec_abc', webhookSecretContext('u1', 'e1'));
    expect(() => box.open(sealed, webhookSecretContext('u2', 'e1'))).toThrow(/does not open/);
    expect(() => createSecretBox(randomBytes(32).toString('base64')).open(sealed, webhookSecretContext('u1', 'e1'))).toThrow(/does not open/);
    const [v, nonce, body] = sealed.split('.');
    const flipped = Buffer.from(body!, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    expect(() => box.open(`${v}.${nonce}.${flipped.toString('base64url')}`, webhookSecretContext('u1', 'e1'))).toThrow(/does not open/);
  });

  it('given text that is not a sealed secret, when opened, then it says so', () => {
    const box = createSecretBox(key);
    expect(() => box.open('whsec_plain', 'ctx')).toThrow(/not a sealed secret/);
    expect(() => box.open('v1.AAAA.AAAA', 'ctx')).toThrow(/truncated/);
  });

  it('given a key of the wrong length, then the box is not made', () => {
    expect(() => createSecretBox(randomBytes(16).toString('base64'))).toThrow(/32 bytes/);
  });
});

describe('webhook endpoint sets', () => {
  it('given a valid set, then there is no problem', () => {
    expect(endpointProblems([{ id: 'a', url: 'https://x.test/a' }, { id: 'b', url: 'http://127.0.0.1:9000/', format: 'teams' }])).toEqual([]);
  });

  it('given duplicate ids, bad URLs and a secret on a chat format, then every problem is named', () => {
    expect(endpointProblems([
      { id: 'a', url: 'mailto:x@y.test' },
      { id: 'a', url: '::' },
      { id: 'b', url: 'https://u:p@x.test/' },
      { id: 'c', url: 'https://x.test/', format: 'discord', secret: generateSecret() },
    ])).toEqual([
      'endpoints[0].url: must be http or https, not mailto:',
      'endpoints[1].id: "a" appears twice',
      'endpoints[1].url: not a URL',
      'endpoints[2].url: must not carry credentials; generic endpoints are signed instead',
      'endpoints[3].secret: only generic endpoints are signed; discord carries its credential in the URL',
    ]);
  });

  it('generates Standard Webhooks secrets of 32 random bytes', () => {
    const secret = generateSecret();
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(generateSecret()).not.toBe(secret);
  });

  it('seals custom header values per user, endpoint and header name; opens them; passes plain values kept before sealing', () => {
    const box = createSecretBox(key);
    const sealed = sealHeaders(box, { Authorization: 'Bearer t', 'x-team': 'ops' }, 'u1', 'e1');
    expect(Object.values(sealed).every((v) => v.startsWith('sealed:v1.'))).toBe(true);
    expect(JSON.stringify(sealed)).not.toContain('Bearer t');
    expect(openHeaders(box, sealed, 'u1', 'e1')).toEqual({ Authorization: 'Bearer t', 'x-team': 'ops' });
    // Header names match in any case, as HTTP's do.
    expect(openHeaders(box, { authorization: sealed.Authorization! }, 'u1', 'e1')).toEqual({ authorization: 'Bearer t' });
    expect(() => openHeaders(box, sealed, 'u1', 'e2')).toThrow();
    expect(() => openHeaders(box, { 'x-team': sealed.Authorization! }, 'u1', 'e1')).toThrow();
    expect(openHeaders(box, { 'x-plain': 'kept as it was' }, 'u1', 'e1')).toEqual({ 'x-plain': 'kept as it was' });
  });
});

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256
 * over `${id}.${timestamp}.${body}`, keyed with the base64-decoded part of a
 * `whsec_` secret, sent as `v1,<base64>`. Several secrets sign at once while a
 * rotation is under way, so receivers holding the old or the new one both verify.
 */
import { createHmac } from 'node:crypto';

/** The three headers a Standard Webhooks receiver checks. */
export interface SignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

export interface SignatureInput {
  /** the message id; the same on every retry, so receivers can deduplicate */
  id: string;
  /** ms since the epoch; sent in whole seconds */
  timestampMs: number;
  /** the exact bytes sent, as UTF-8 text */
  body: string;
  /** `whsec_` secrets, old and new during a rotation */
  secrets: readonly string[];
}

const PREFIX = 'whsec_';
/** bytes: the secret sizes the spec recommends */
const KEY_BYTES = { min: 24, max: 64 } as const;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Headers signing `body` with every one of `secrets`, each signature once.
 * Throws a TypeError for no secrets, or a secret that is not `whsec_` and the
 * base64 of 24 to 64 bytes; a RangeError for a timestamp that is not a time.
 */
export function signatureHeaders(input: SignatureInput): SignatureHeaders {
  if (input.secrets.length === 0) throw new TypeError('at least one webhook secret is needed to sign');
  if (!Number.isFinite(input.timestampMs) || input.timestampMs < 0) throw new RangeError(`not a timestamp in ms: ${input.timestampMs}`);
  const seconds = Math.floor(input.timestampMs / 1000).toString();
  const content = `${input.id}.${seconds}.${input.body}`;
  const signatures = input.secrets.map((secret) => `v1,${createHmac('sha256', secretKey(secret)).update(content, 'utf8').digest('base64')}`);
  return { 'webhook-id': input.id, 'webhook-timestamp': seconds, 'webhook-signature': [...new Set(signatures)].join(' ') };
}

/** The key bytes of a `whsec_` secret. The message never includes the secret. */
function secretKey(secret: string): Buffer {
  if (!secret.startsWith(PREFIX)) throw new TypeError(`a webhook secret must start with "${PREFIX}"`);
  const encoded = secret.slice(PREFIX.length);
  // Buffer.from(…, 'base64') skips characters it does not know; check strictly first.
  if (!BASE64.test(encoded)) throw new TypeError('a webhook secret must be base64 after its prefix');
  const key = Buffer.from(encoded, 'base64');
  if (key.length < KEY_BYTES.min || key.length > KEY_BYTES.max) {
    throw new TypeError(`a webhook secret must hold ${KEY_BYTES.min} to ${KEY_BYTES.max} bytes, not ${key.length}`);
  }
  return key;
}

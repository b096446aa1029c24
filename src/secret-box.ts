/**
 * Encryption of webhook signing secrets, at rest in Kafka and in Postgres.
 * AES-256-GCM from node:crypto with a random 96-bit nonce per secret; the
 * context (user and endpoint) is bound as additional data, so a ciphertext
 * copied onto another endpoint does not open. Sealed form:
 * `v1.<nonce>.<ciphertext+tag>`, base64url parts.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigError, SecretError } from './errors.ts';

const VERSION = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const SECRET_KEY_BYTES = 32;

export interface SecretBox {
  seal(plain: string, context: string): string;
  /** Throws if the sealed text was altered, made for another context, or sealed with another key. */
  open(sealed: string, context: string): string;
}

/** @param keyText the key, base64 or base64url */
export function createSecretBox(keyText: string): SecretBox {
  const key = Buffer.from(keyText, 'base64');
  if (key.length !== SECRET_KEY_BYTES) throw new ConfigError([`the secret key must be ${SECRET_KEY_BYTES} bytes, not ${key.length}`]);
  return {
    seal(plain, context) {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return [VERSION, nonce.toString('base64url'), body.toString('base64url')].join('.');
    },
    open(sealed, context) {
      const [version, nonceText, bodyText, ...rest] = sealed.split('.');
      if (version !== VERSION || !nonceText || !bodyText || rest.length > 0) throw new SecretError('not a sealed secret of this version');
      const nonce = Buffer.from(nonceText, 'base64url');
      const body = Buffer.from(bodyText, 'base64url');
      if (nonce.length !== NONCE_BYTES || body.length < TAG_BYTES) throw new SecretError('sealed secret is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      try {
        return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretError('sealed secret does not open with this key and context');
      }
    },
  };
}

/** The additional data a webhook endpoint's secret is sealed with. */
export function webhookSecretContext(userId: string, endpointId: string): string {
  return `webhook:${userId}:${endpointId}`;
}

/** The additional data one custom header value of a webhook endpoint is sealed with. */
export function webhookHeaderContext(userId: string, endpointId: string, name: string): string {
  return `webhook-header:${userId}:${endpointId}:${name.toLowerCase()}`;
}

/** How a sealed header value is told from a plain one written before header values were sealed. */
const SEALED_HEADER = 'sealed:';

/**
 * An endpoint's custom header values sealed, as they are kept in Kafka and
 * Postgres (an Authorization header is a credential like the signing secret).
 */
export function sealHeaders(box: SecretBox, headers: Readonly<Record<string, string>>, userId: string, endpointId: string): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, `${SEALED_HEADER}${box.seal(value, webhookHeaderContext(userId, endpointId, name))}`]));
}

/** The header values to send: sealed ones opened, plain ones (kept before sealing) as they are. */
export function openHeaders(box: SecretBox, headers: Readonly<Record<string, string>>, userId: string, endpointId: string): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name,
    value.startsWith(SEALED_HEADER) ? box.open(value.slice(SEALED_HEADER.length), webhookHeaderContext(userId, endpointId, name)) : value]));
}

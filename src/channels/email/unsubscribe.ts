/**
 * Signed one-click unsubscribe tokens (RFC 8058): who and which type, HMAC-SHA256
 * under a key derived from the operator's secret, url-safe.
 *
 *   v1.<base64url JSON {u, t, iat}>.<base64url HMAC-SHA256("v1." + payload)>
 *
 * No expiry: a link in an old e-mail must keep working. The issued-at (s)
 * lets a later version refuse tokens issued before a date; the version prefix
 * lets the format change while old links still verify.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { TidingsError } from '../../errors.ts';

export interface UnsubscribeClaim {
  userId: string;
  type: string;
}

export type UnsubscribeProblem = 'malformed' | 'version' | 'signature';

export class UnsubscribeTokenError extends TidingsError {
  readonly problem: UnsubscribeProblem;

  constructor(problem: UnsubscribeProblem, message: string) {
    super('TIDINGS_UNSUBSCRIBE_INVALID', message, 'poison', 400);
    this.name = 'UnsubscribeTokenError';
    this.problem = problem;
  }
}

const VERSION = 'v1';

/** A token for `claim`; `issuedAt` (ms, default now) makes it reproducible, e.g. the notification's time. */
export function signUnsubscribe(claim: UnsubscribeClaim & { issuedAt?: number }, secret: string | Buffer): string {
  const payload = Buffer.from(JSON.stringify({ u: claim.userId, t: claim.type, iat: Math.floor((claim.issuedAt ?? Date.now()) / 1000) })).toString('base64url');
  return `${VERSION}.${payload}.${mac(`${VERSION}.${payload}`, secret).toString('base64url')}`;
}

/** The claim of a valid token; throws UnsubscribeTokenError otherwise. `issuedAt` is in ms. */
export function verifyUnsubscribe(token: string, secret: string | Buffer): UnsubscribeClaim & { issuedAt: number } {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) throw new UnsubscribeTokenError('malformed', 'not an unsubscribe token');
  const [version, payload, signature] = parts as [string, string, string];
  if (version !== VERSION) throw new UnsubscribeTokenError('version', `unsupported unsubscribe token version ${JSON.stringify(version.slice(0, 8))}`);
  const expected = mac(`${version}.${payload}`, secret);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new UnsubscribeTokenError('signature', 'the unsubscribe token is not signed by this server');
  let claim: unknown;
  try {
    claim = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new UnsubscribeTokenError('malformed', 'the unsubscribe token does not hold JSON');
  }
  const c = claim as { u?: unknown; t?: unknown; iat?: unknown };
  if (typeof c.u !== 'string' || typeof c.t !== 'string' || typeof c.iat !== 'number') throw new UnsubscribeTokenError('malformed', 'the unsubscribe token lacks a user, type or issued-at');
  return { userId: c.u, type: c.t, issuedAt: c.iat * 1000 };
}

/** HMAC-SHA256 under a key of its own, so the operator's secret can serve other purposes too. */
function mac(text: string, secret: string | Buffer): Buffer {
  if (secret.length === 0) throw new RangeError('the unsubscribe secret is empty');
  const key = createHmac('sha256', secret).update('tidings unsubscribe v1').digest();
  return createHmac('sha256', key).update(text).digest();
}

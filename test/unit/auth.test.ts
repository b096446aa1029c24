import { describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { createAuthenticator } from '../../src/auth.ts';
import { AuthError } from '../../src/errors.ts';

const secret = 'a-test-secret-of-at-least-32-characters';
const key = new TextEncoder().encode(secret);
const now = () => Math.floor(Date.now() / 1000); // s

/** A token as any client could sign it: only the claims given. */
function token(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(key);
}

async function refusal(verify: Promise<unknown>): Promise<AuthError> {
  const err = await verify.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(AuthError);
  return err as AuthError;
}

describe('createAuthenticator', () => {
  const auth = createAuthenticator({ secret });

  it('given a signed token with sub, roles and exp, then it gives the principal', async () => {
    expect(await auth.verify(await auth.sign({ userId: 'alice', roles: ['producer'] }))).toEqual({ userId: 'alice', roles: ['producer'] });
  });

  it('given a token without exp (once accepted forever), then it is refused with 401 "token has no exp"', async () => {
    const err = await refusal(auth.verify(await token({ sub: 'alice', iat: now() })));
    expect(err).toMatchObject({ statusCode: 401, message: 'token has no exp' });
  });

  it('given a token without exp and allowNoExp, then it is accepted', async () => {
    const lenient = createAuthenticator({ secret, allowNoExp: true });
    expect(await lenient.verify(await token({ sub: 'billing-service', roles: ['producer'] }))).toEqual({ userId: 'billing-service', roles: ['producer'] });
  });

  it('given an iat beyond the clock tolerance in the future, then it is refused; within it, accepted', async () => {
    const err = await refusal(auth.verify(await token({ sub: 'alice', iat: now() + 3_600, exp: now() + 7_200 })));
    expect(err).toMatchObject({ statusCode: 401, message: 'token issued in the future' });
    expect(await auth.verify(await token({ sub: 'alice', iat: now() + 2, exp: now() + 60 }))).toMatchObject({ userId: 'alice' });
  });

  it('given an expired, not-yet-valid, subject-less or foreign token, then each is refused with its reason', async () => {
    expect(await refusal(auth.verify(await token({ sub: 'alice', exp: now() - 60 })))).toMatchObject({ message: 'token expired' });
    expect(await refusal(auth.verify(await token({ sub: 'alice', nbf: now() + 600, exp: now() + 3_600 })))).toMatchObject({ message: 'token not yet valid' });
    expect(await refusal(auth.verify(await token({ exp: now() + 60 })))).toMatchObject({ message: 'token has no subject' });
    const foreign = await new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode('another-secret-of-at-least-32-chars!!'));
    expect(await refusal(auth.verify(foreign))).toMatchObject({ message: 'invalid token' });
  });
});

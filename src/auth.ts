/**
 * JWT authentication shared by the REST API and the WebSocket gateway:
 * HS256, `sub` is the user id, `roles` an optional list (admin, producer, …).
 * A token must carry `exp` unless `allowNoExp`, and its `iat` must not be in the future.
 */
import { jwtVerify, SignJWT, errors } from 'jose';
import { AuthError } from './errors.ts';

export interface Principal {
  userId: string;
  roles: readonly string[];
}

export interface JwtSettings {
  secret: string;
  issuer?: string | undefined;
  audience?: string | undefined;
  /** accept tokens without `exp` (long-lived service tokens); default false */
  allowNoExp?: boolean;
}

const CLOCK_TOLERANCE = 5; // s

export interface Authenticator {
  verify(token: string): Promise<Principal>;
  sign(principal: Principal, ttlSeconds?: number): Promise<string>;
}

export function createAuthenticator(settings: JwtSettings): Authenticator {
  const key = new TextEncoder().encode(settings.secret);
  return {
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          issuer: settings.issuer,
          audience: settings.audience,
          requiredClaims: settings.allowNoExp ? [] : ['exp'],
          clockTolerance: CLOCK_TOLERANCE,
        });
        // jose checks iat only against a maximum age; a future one means a wrong clock or a forged lifetime.
        if (payload.iat !== undefined && payload.iat > Date.now() / 1000 + CLOCK_TOLERANCE) throw new AuthError('token issued in the future');
        if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw new AuthError('token has no subject');
        const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
        return { userId: payload.sub, roles };
      } catch (err) {
        if (err instanceof AuthError) throw err;
        if (err instanceof errors.JWTExpired) throw new AuthError('token expired');
        if (err instanceof errors.JWTClaimValidationFailed && err.claim === 'exp' && err.reason === 'missing') throw new AuthError('token has no exp');
        if (err instanceof errors.JWTClaimValidationFailed && err.claim === 'nbf') throw new AuthError('token not yet valid');
        throw new AuthError('invalid token');
      }
    },
    async sign(principal, ttlSeconds = 3_600) {
      let jwt = new SignJWT({ roles: [...principal.roles] })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(principal.userId)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`);
      if (settings.issuer) jwt = jwt.setIssuer(settings.issuer);
      if (settings.audience) jwt = jwt.setAudience(settings.audience);
      return jwt.sign(key);
    },
  };
}

/** The token of an `Authorization: Bearer …` header, if any. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}

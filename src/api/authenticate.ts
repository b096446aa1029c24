/** fastify hooks that authenticate a request with its bearer JWT. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken, type Authenticator, type Principal } from '../auth.ts';
import { AuthError } from '../errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyInstance {
    auth: Authenticator;
  }
}

/** A preHandler that lets through a valid token holding one of `roles`. */
export function requireRole(...roles: string[]) {
  return async function authenticate(this: { auth: Authenticator }, request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const token = bearerToken(request.headers.authorization);
    if (!token) throw new AuthError('missing bearer token');
    const principal = await request.server.auth.verify(token);
    if (roles.length > 0 && !principal.roles.some((r) => roles.includes(r))) {
      throw new AuthError(`requires role ${roles.join(' or ')}`, 403);
    }
    request.principal = principal;
  };
}

/** `tidings token <user> [role…]`: a JWT for local development and scripts. */
import type { Config } from '../config.ts';
import { createAuthenticator } from '../auth.ts';
import { resolveEndpoints } from './services.ts';

export async function tokenCommand(config: Config, args: string[]): Promise<number> {
  const [userId, ...roles] = args;
  if (!userId) {
    console.error('usage: tidings token <user-id> [role …]   (roles: producer, admin)');
    return 2;
  }
  const auth = createAuthenticator({ secret: (await resolveEndpoints(config)).jwtSecret, issuer: config.jwtIssuer, audience: config.jwtAudience });
  console.log(await auth.sign({ userId, roles }, 24 * 3_600));
  return 0;
}

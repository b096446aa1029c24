/** `tidings start`: the local stack for whatever is not configured (nothing of it in production), then the configured roles of Tidings. */
import type { Config, Role } from '../config.ts';
import { createLogger, type Logger } from '../logger.ts';
import { startServices, type LocalService } from './services.ts';
import { startTidings, type Tidings } from '../tidings.ts';
import { createAuthenticator } from '../auth.ts';

export async function startCommand(config: Config): Promise<number> {
  const log = createLogger(config.logLevel);
  const { endpoints, local } = await startServices(config, (line) => log.info(`stack: ${line}`));
  let failure: Error | undefined;
  let resolveStopped: () => void = () => {};
  const stopped = new Promise<void>((resolve) => { resolveStopped = resolve; });
  const tidings = await startTidings({ config, endpoints, log, onFatal: (err) => { failure = err; resolveStopped(); } });

  // A ready-made token is for trying Tidings on the local stack; a deployment's logs get none.
  const token = local.length > 0
    ? await createAuthenticator({ secret: endpoints.jwtSecret, issuer: config.jwtIssuer, audience: config.jwtAudience }).sign({ userId: 'demo-user', roles: ['producer'] }, 24 * 3_600)
    : undefined;
  console.log(banner(config, tidings, local, token));

  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolveStopped());
  await stopped;
  const code = failure ? 1 : 0;
  // A shutdown that hangs (a broker gone, a stuck request) must not keep the
  // process alive: past the deadline it exits with what is still open.
  exitAfter(STOP_DEADLINE_MS, 1, log, 'shutdown did not finish in time');
  await tidings.stop();
  if (failure) log.fatal({ err: failure }, 'stopped after a fatal error');
  // Everything is closed; anything still holding the event loop is a leak, reported, not waited on.
  exitAfter(LINGER_MS, code, log, 'resources still open after a clean stop');
  return code;
}

const STOP_DEADLINE_MS = 30_000;
const LINGER_MS = 5_000;

function exitAfter(ms: number, code: number, log: Logger, reason: string): void {
  setTimeout(() => {
    log.error({ resources: process.getActiveResourcesInfo() }, reason);
    process.exit(code);
  }, ms).unref();
}

/** What `start` prints: where each role this process runs answers; on the local stack, its services and a token to try it. */
function banner(config: Config, tidings: Tidings, local: LocalService[], token: string | undefined): string {
  const has = (role: Role) => config.roles.includes(role);
  const url = tidings.url;
  return [
    '',
    `Tidings is running at ${url}`,
    `  health            ${url}/health`,
    ...(has('ingest') ? [`  ingest            POST ${url}/v1/events`] : []),
    ...(has('gateway') ? [`  websocket         ${tidings.wsUrl}?token=<jwt>`] : []),
    ...(has('api') || has('gateway') ? [`  demo page         ${url}/demo#token=<jwt>`] : []),
    ...(local.length ? ['local stack:', ...local.map((s) => `  ${s.name.padEnd(16)} ${s.endpoint}   (log: ${s.log})`)] : []),
    '',
    ...(token
      ? [
        'A token for user "demo-user" (24 h), to try it:',
        `  export TOKEN=${token}`,
        ...(has('ingest')
          ? [`  curl -s -X POST ${url}/v1/events -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\`,
            `    -d '{"user_id":"demo-user","type":"job_completed","title":"Job done","message":"All 3 tasks finished","source_type":"job","source_id":"42"}'`]
          : []),
        ...(has('api') && has('gateway') ? ['Its notification center, live (open it in a browser, then run the curl above):', `  ${url}/demo#token=${token}`] : []),
        'Stop with Ctrl-C; `./tidings stack down` stops the local stack.',
      ]
      : ['Stop with Ctrl-C.']),
    '',
  ].join('\n');
}

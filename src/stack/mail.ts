/** The mail catcher as a stack service: its own Node process, see mail-catcher.ts. */
import { join } from 'node:path';
import { startDaemon, stopDaemon, httpOk, livePid } from './process.ts';
import { STACK_PORTS, type StackPaths, type StackService } from './service.ts';

export function mailService(paths: StackPaths): StackService {
  const home = join(paths.stackDir, 'mail');
  const pidFile = join(home, 'mail.pid');
  const logFile = join(home, 'mail.log');
  return {
    name: 'smtp',
    endpoint: `smtp://127.0.0.1:${STACK_PORTS.smtp}`,
    logFile,
    ports: [STACK_PORTS.smtp, STACK_PORTS.mailApi],
    startTimeoutMs: 20_000,
    async install() {},
    async isReady() {
      return livePid(pidFile) !== undefined && (await httpOk(`${mailApiUrl()}/health`));
    },
    async start() {
      startDaemon({
        command: process.execPath,
        args: ['--import', 'tsx', join(paths.root, 'src', 'stack', 'mail-catcher.ts'), String(STACK_PORTS.smtp), String(STACK_PORTS.mailApi)],
        cwd: paths.root,
        logFile,
        pidFile,
      });
    },
    stop: () => stopDaemon(pidFile, 5_000),
  };
}

/** Where captured mail can be read as JSON. */
export function mailApiUrl(): string {
  return `http://127.0.0.1:${STACK_PORTS.mailApi}`;
}

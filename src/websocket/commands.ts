/**
 * Carries out a client's inbox command (mark_read, mark_all_read, archive)
 * through the same module as the REST routes, and says how it went as a frame.
 */
import { applyReadAction, type ReadAction, type ReadActionDeps } from '../api/read-actions.ts';
import { NotFoundError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { assertNever } from '../assert-never.ts';
import type { CommandFrame } from './client-frames.ts';
import type { ErrorFrame, MarkReadFrame } from './protocol.ts';

/** What answers a command on a process without the api role's dependencies. */
export const NO_COMMANDS = 'inbox commands are not available on this server (it has no api role); use the REST API';

export interface CommandRunner {
  run(userId: string, command: CommandFrame, now: number): Promise<MarkReadFrame | ErrorFrame>;
}

/** `deps` undefined: every command is answered with an error frame saying so. */
export function createCommandRunner(deps: ReadActionDeps | undefined, log: Logger): CommandRunner {
  return {
    async run(userId, command, now) {
      const id = command.type === 'mark_all_read' ? null : command.notification_id;
      const failed = (error: string): ErrorFrame => ({ type: 'error', error, command: command.type, ...(id === null ? {} : { notification_id: id }) });
      if (!deps) return failed(NO_COMMANDS);
      try {
        await applyReadAction(deps, userId, readAction(command), now);
        return { type: 'mark_read', action: command.type, notification_id: id, at: new Date(now).toISOString() };
      } catch (err) {
        if (err instanceof NotFoundError) return failed(err.message);
        // Kafka or Postgres down: the client is told to try again; the cause is for the operator.
        log.error({ err, command: command.type }, 'inbox command failed');
        return failed('could not apply the command now; try again');
      }
    },
  };
}

function readAction(command: CommandFrame): ReadAction {
  switch (command.type) {
    case 'mark_read':
      return { action: 'read', notificationId: command.notification_id };
    case 'archive':
      return { action: 'archive', notificationId: command.notification_id };
    case 'mark_all_read':
      return { action: 'read_all' };
    default:
      return assertNever(command);
  }
}

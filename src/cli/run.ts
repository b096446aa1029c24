/** Dispatches `tidings <command>`; each command lives in its own file. */
import { loadConfig, type Config } from '../config.ts';
import { ConfigError, TidingsError } from '../errors.ts';
import { startCommand } from './start.ts';
import { tokenCommand } from './token.ts';
import { produceCommand } from './produce.ts';
import { topicsCommand } from './topics.ts';
import { topologyCommand } from './topology.ts';
import { dlqCommand } from './dlq.ts';
import { lagCommand } from './lag.ts';
import { rebuildCommand } from './rebuild.ts';

const USAGE = `usage: tidings <command>

  start                 run Tidings (starts the local stack for anything not configured)
  stack up|down|status  the local Kafka, schema registry, Postgres and mail catcher
  topics                create the topics of the registry and list them
  topology              print sources → processor → sinks and group ids of every role
  token <user> [role…]  print a JWT for a user (local development)
  produce <type> <user> publish a test event to notification.events
  dlq list|redrive <topic> …  list or redrive the dead letters of events, accepted, webhook or email
  lag [--rounds N] [--interval MS]  consumer groups' offsets, lag and Burrow status
  rebuild --yes         empty the read models and replay the log into them (projector stopped)
`;

export async function runCli(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [command, ...args] = argv;
  let config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 78; // EX_CONFIG
    }
    throw err;
  }
  try {
    return await dispatch(command, args, config);
  } catch (err) {
    // Our own errors say what to do; anything else is a bug and keeps its stack.
    if (!(err instanceof TidingsError)) throw err;
    console.error(`tidings: ${err.message}`);
    return 1;
  }
}

async function dispatch(command: string | undefined, args: string[], config: Config): Promise<number> {
  switch (command) {
    case 'start':
      return startCommand(config);
    case 'stack':
      // Loaded only for this command: no other command loads src/stack once every service is configured.
      return (await import('./stack.ts')).stackCommand(config, args);
    case 'token':
      return tokenCommand(config, args);
    case 'produce':
      return produceCommand(config, args);
    case 'topics':
      return topicsCommand(config);
    case 'topology':
      return topologyCommand(config);
    case 'dlq':
      return dlqCommand(config, args);
    case 'lag':
      return lagCommand(config, args);
    case 'rebuild':
      return rebuildCommand(config, args);
    default:
      console.error(USAGE);
      return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  }
}

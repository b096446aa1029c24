/** Entry point of the `tidings` command; see src/cli/. */
import { runCli } from './cli/run.ts';
import { processEnvironment } from './config.ts';

process.exitCode = await runCli(process.argv.slice(2), processEnvironment());

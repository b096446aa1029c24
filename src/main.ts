/** Entry point of the `tidings` command; see src/cli/. */
import { runCli } from './cli/run.ts';

process.exitCode = await runCli(process.argv.slice(2), process.env);

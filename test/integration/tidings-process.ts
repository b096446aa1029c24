/**
 * The `tidings` command as a user runs it: a child process with only the
 * environment given (plus PATH and HOME). `forbidStack` loads
 * forbid-stack.mjs first, so the process fails if it loads anything of src/stack.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { waitFor } from './harness.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const forbidStack = fileURLToPath(new URL('./forbid-stack.mjs', import.meta.url));

export interface ProcessOptions {
  /** fail the process when it loads a file under src/stack */
  forbidStack?: boolean;
}

function command(args: string[], options: ProcessOptions): string[] {
  return ['--import', 'tsx', ...(options.forbidStack ? ['--import', forbidStack] : []), 'src/main.ts', ...args];
}

function environment(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env };
}

/** Runs `tidings <args>` to its end. */
export async function runTidings(args: string[], env: Record<string, string> = {}, options: ProcessOptions = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, command(args, options), { cwd: root, env: environment(env), timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

export interface TidingsProcess {
  /** http://host:port from the start banner */
  url: string;
  /** what it printed on stdout so far */
  stdout(): string;
  /** the exit code once it has exited (null after a signal) */
  readonly exitCode: number | null | undefined;
  /** waitFor that fails at once, with what the process printed, if it has exited or on timeout */
  waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs?: number): Promise<T>;
  /** SIGTERM, then the exit code */
  stop(timeoutMs?: number): Promise<number | null>;
  kill(): void;
}

/** Starts `tidings start` and resolves once its banner says where it runs. */
export async function startTidingsProcess(env: Record<string, string>, options: ProcessOptions = {}): Promise<TidingsProcess> {
  const child = spawn(process.execPath, command(['start'], options), { cwd: root, env: environment(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); output += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { exitCode = code; resolve(code); }));

  const wait = async <T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs?: number): Promise<T> => {
    try {
      return await waitFor(() => {
        if (exitCode !== undefined) throw new Error(`tidings start exited with ${exitCode}`);
        return probe();
      }, what, timeoutMs);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- tidings start printed:\n${output.slice(-4_000)}`, { cause: err });
    }
  };

  const url = await wait(() => /Tidings is running at (http:\/\/\S+)/.exec(stdout)?.[1], 'the start banner', 90_000)
    .catch((err: unknown) => { child.kill('SIGKILL'); throw err; });
  return {
    url,
    stdout: () => stdout,
    get exitCode() { return exitCode; },
    waitFor: wait,
    async stop(timeoutMs = 40_000) {
      if (exitCode === undefined) child.kill('SIGTERM');
      await waitFor(() => exitCode, 'the process to exit', timeoutMs);
      return exited;
    },
    kill() { if (exitCode === undefined) child.kill('SIGKILL'); },
  };
}

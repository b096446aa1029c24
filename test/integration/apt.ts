/**
 * Debian packages the tests need beside the local stack (burrow, chromium),
 * installed with apt-get when their binary is missing, as the stack installs
 * PostgreSQL: as root directly, otherwise through sudo.
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { processEnvironment } from '../../src/config.ts';
import { execFileAsync } from '../../src/stack/process.ts';

/** Installs `pkg` unless `bin` exists; returns `bin`. `name` is how errors call it. */
export async function ensureDebianPackage(pkg: string, bin: string, name: string): Promise<string> {
  if (existsSync(bin)) return bin;
  const asRoot = userInfo().uid === 0;
  const options = { maxBuffer: 64 * 1024 * 1024, env: { ...processEnvironment(), DEBIAN_FRONTEND: 'noninteractive' } };
  const aptGet = (args: string[]) => (asRoot
    ? execFileAsync('apt-get', args, options)
    : execFileAsync('sudo', ['-n', '--preserve-env=DEBIAN_FRONTEND', 'apt-get', ...args], options));
  try {
    await aptGet(['update', '-qq']);
    await aptGet(['install', '-y', '-qq', pkg]);
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`could not install ${name} (run \`sudo apt-get install -y ${pkg}\`): ${e.stderr ?? e.message}`);
  }
  if (!existsSync(bin)) throw new Error(`apt-get installed ${pkg} but ${bin} is missing`);
  return bin;
}

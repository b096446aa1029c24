/**
 * PostgreSQL from Debian's packages (installed with apt-get when missing), with
 * its own data folder and port so it never clashes with a system cluster.
 * Postgres refuses to run as root, so as root it runs as the `postgres` user.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { userInfo } from 'node:os';
import { execFileAsync, portOpen } from './process.ts';
import { STACK_PORTS, type StackPaths, type StackService } from './service.ts';
import { StackError } from '../errors.ts';
import { processEnvironment } from '../config.ts';

const DB_USER = 'tidings';
const DB_NAME = 'tidings';

export function postgresService(paths: StackPaths): StackService {
  const home = join(paths.stackDir, 'postgres');
  const asRoot = userInfo().uid === 0;
  // As root, the data folder must be reachable by the postgres user; a clone
  // under a private home folder is not, so its data then lives under /var/tmp.
  const dataRoot = asRoot && !reachableByPostgres(home) ? join('/var/tmp', `tidings-postgres-${hash(home)}`) : home;
  const dataDir = join(dataRoot, 'data');
  const socketDir = join(dataRoot, 'run');
  const logFile = join(dataRoot, 'postgres.log');
  const port = STACK_PORTS.postgres;

  let bin = '';
  const run = async (tool: string, args: string[]) => {
    const command = join(bin, tool);
    return asRoot
      ? execFileAsync('runuser', ['-u', 'postgres', '--', command, ...args], { cwd: '/' })
      : execFileAsync(command, args);
  };

  return {
    name: 'postgres',
    endpoint: `postgres://${DB_USER}@127.0.0.1:${port}/${DB_NAME}`,
    logFile,
    ports: [port],
    startTimeoutMs: 30_000,

    async install() {
      bin = await findOrInstallPostgres();
      mkdirSync(home, { recursive: true });
      if (dataRoot !== home) writeFileSync(join(home, 'location'), `${dataRoot}\n`);
      mkdirSync(socketDir, { recursive: true });
      if (asRoot) await execFileAsync('chown', ['-R', 'postgres:postgres', dataRoot]);
      if (!existsSync(join(dataDir, 'PG_VERSION'))) {
        // trust on loopback: this cluster exists for a developer's machine and CI only.
        await run('initdb', ['-D', dataDir, '-U', DB_USER, '--auth=trust', '--encoding=UTF8', '--no-locale']);
      }
    },

    async isReady() {
      if (!bin) bin = await findPostgresBin() ?? '';
      if (!bin || !(await portOpen(port))) return false;
      await execFileAsync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-d', DB_NAME, '-U', DB_USER]);
      return true;
    },

    async start() {
      const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${socketDir} -c max_connections=200 -c fsync=off -c synchronous_commit=off`;
      await run('pg_ctl', ['-D', dataDir, '-l', logFile, '-o', options, '-w', '-t', '60', 'start']).catch((err: Error & { stdout?: string; stderr?: string }) => {
        throw new StackError(`postgres did not start: ${err.stderr ?? ''}${err.stdout ?? err.message}`);
      });
      const psql = (sql: string) => execFileAsync(join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', DB_USER, '-d', 'postgres', '-tAc', sql]);
      const exists = await psql(`select 1 from pg_database where datname = '${DB_NAME}'`);
      if (exists.stdout.trim() !== '1') await psql(`create database ${DB_NAME}`);
    },

    async stop() {
      if (!existsSync(join(dataDir, 'postmaster.pid'))) return false;
      if (!bin) bin = await findPostgresBin() ?? '';
      await run('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
      return true;
    },
  };
}

async function findOrInstallPostgres(): Promise<string> {
  const found = await findPostgresBin();
  if (found) return found;
  if (userInfo().uid !== 0) {
    throw new StackError('PostgreSQL is not installed; run `sudo apt-get install -y postgresql` (or set DATABASE_URL)');
  }
  await execFileAsync('apt-get', ['update', '-qq'], { maxBuffer: 64 * 1024 * 1024 });
  await execFileAsync('apt-get', ['install', '-y', '-qq', 'postgresql'], {
    maxBuffer: 64 * 1024 * 1024,
    env: { ...processEnvironment(), DEBIAN_FRONTEND: 'noninteractive' },
  });
  const installed = await findPostgresBin();
  if (!installed) throw new StackError('apt-get installed postgresql but no initdb was found under /usr/lib/postgresql');
  return installed;
}

/** Debian keeps server binaries in /usr/lib/postgresql/<major>/bin; the newest wins. */
async function findPostgresBin(): Promise<string | undefined> {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const majors = readdirSync(base).filter((v) => /^\d+$/.test(v) && existsSync(join(base, v, 'bin', 'initdb')));
  majors.sort((a, b) => Number(b) - Number(a));
  return majors[0] === undefined ? undefined : join(base, majors[0], 'bin');
}

function reachableByPostgres(dir: string): boolean {
  // Every existing ancestor must be searchable by "other" for the postgres user to reach dir.
  let current = dir;
  for (;;) {
    const parent = dirname(current);
    if (parent === current) return true;
    current = parent;
    if (existsSync(current) && (statSync(current).mode & 0o001) === 0) return false;
  }
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

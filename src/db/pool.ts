/** The Postgres pool. pg is imported in src/db only. */
import pg from 'pg';
import type { Logger } from '../logger.ts';

export type Pool = pg.Pool;
export type Client = pg.PoolClient;

export function createPool(databaseUrl: string, log: Logger, max = 10): Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 5_000 });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', (err) => log.warn({ err }, 'idle postgres client failed'));
  return pool;
}

/**
 * Runs `fn` in one transaction; commits when it resolves, rolls back when it
 * throws. `first`, a statement without parameters, is sent with BEGIN in one
 * round trip (simple query protocol) and `fn` gets its row count.
 */
export async function withTransaction<T>(pool: Pool, fn: (client: Client, firstRows: number | null) => Promise<T>, first?: string): Promise<T> {
  const client = await pool.connect();
  try {
    let firstRows: number | null = null;
    if (first === undefined) {
      await client.query('BEGIN');
    } else {
      // Several statements in one simple query give one result each.
      const results = (await client.query(`BEGIN; ${first}`)) as unknown as pg.QueryResult[];
      firstRows = results[1]?.rowCount ?? null;
    }
    const result = await fn(client, firstRows);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Round-trip time of `select 1`, in ms. */
export async function ping(pool: Pool): Promise<number> {
  const started = performance.now();
  await pool.query('select 1');
  return Math.round(performance.now() - started);
}

/** Creates database `name` on the server of `adminUrl` unless it exists (used by tests and rebuilds). */
/** Drops every database whose name starts with `prefix` (runs' databases on a shared server); returns how many. */
export async function dropDatabases(adminUrl: string, prefix: string): Promise<number> {
  // A run's prefix (`t1a2b`, `bench…`): long enough never to take in `tidings`, `template0` or `postgres`.
  if (!/^[a-z][a-z0-9_]{4,}$/.test(prefix)) throw new TypeError(`unsafe database prefix ${prefix}`);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>('select datname from pg_database where starts_with(datname, $1)', [prefix]);
    // Names from pg_database that keep to the identifier rule: safe to splice.
    const names = rows.map((r) => r.datname).filter((name) => /^[a-z_][a-z0-9_]*$/.test(name));
    for (const name of names) await client.query(`drop database if exists ${name} with (force)`);
    return names.length;
  } finally {
    await client.end();
  }
}

export async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new TypeError(`unsafe database name ${name}`);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

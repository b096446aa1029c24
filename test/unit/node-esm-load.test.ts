/**
 * Every module of src/ loads in plain Node (ESM through tsx), as `tidings
 * start` runs it. vitest's interop accepts named imports of CommonJS exports
 * that Node's ESM loader refuses (kafkajs' ConfigResourceTypes and its error
 * classes were such); this test does not.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
/** modules that act when loaded: the CLI entry point */
const ENTRY_POINTS = new Set(['src/main.ts']);

function modules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return modules(path);
    return entry.name.endsWith('.ts') ? [relative(ROOT, path)] : [];
  });
}

describe('src in plain Node', () => {
  it('every module loads with node --import tsx', () => {
    const files = modules(join(ROOT, 'src')).filter((f) => !ENTRY_POINTS.has(f));
    expect(files.length).toBeGreaterThan(40);
    const script = `for (const f of ${JSON.stringify(files)}) { try { await import('./' + f); } catch (err) { console.error(f + ': ' + err.message); process.exitCode = 1; } }`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  }, 90_000);
});

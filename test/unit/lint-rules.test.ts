/** The lint rules that keep processor logic pure and I/O libraries in their one module. */
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';

const eslint = new ESLint({ cwd: fileURLToPath(new URL('../..', import.meta.url)) });

async function ruleIds(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe('lint rules', () => {
  it('refuse I/O imports, the clock and the environment in processor logic', async () => {
    const file = 'src/processors/dedupe/example.ts';
    expect(await ruleIds("import { Kafka } from 'kafkajs';\nexport const k = Kafka;\n", file)).toContain('no-restricted-imports');
    expect(await ruleIds("import pg from 'pg';\nexport const p = pg;\n", file)).toContain('no-restricted-imports');
    expect(await ruleIds("import { createPool } from '../../db/pool.ts';\nexport const c = createPool;\n", file)).toContain('no-restricted-imports');
    expect(await ruleIds('export const t = Date.now();\n', file)).toContain('no-restricted-properties');
    expect(await ruleIds('export const t = new Date();\n', file)).toContain('no-restricted-syntax');
    expect(await ruleIds('export const e = process.env.X;\n', file)).toContain('no-restricted-globals');
  });

  it('let processor logic use the WebSocket protocol module, not the server or its sockets', async () => {
    const file = 'src/processors/gateway/decide.ts';
    expect(await ruleIds("import type { NotificationFrame } from '../../websocket/protocol.ts';\nexport type F = NotificationFrame;\n", file)).toEqual([]);
    expect(await ruleIds("import { attachSocketServer } from '../../websocket/server.ts';\nexport const a = attachSocketServer;\n", file)).toContain('no-restricted-imports');
    expect(await ruleIds("import { createConnections } from '../../websocket/connections.ts';\nexport const c = createConnections;\n", file)).toContain('no-restricted-imports');
  });

  it('allow the same in a processor adapter', async () => {
    expect(await ruleIds("import { createPool } from '../../db/pool.ts';\nexport const c = createPool;\n", 'src/processors/dedupe/adapter.ts')).toEqual([]);
  });

  it('keep kafkajs in src/kafka and pg in src/db', async () => {
    expect(await ruleIds("import { Kafka } from 'kafkajs';\nexport const k = Kafka;\n", 'src/api/example.ts')).toContain('no-restricted-imports');
    expect(await ruleIds("import pg from 'pg';\nexport const p = pg;\n", 'src/kafka/example.ts')).toContain('no-restricted-imports');
    expect(await ruleIds("import { Kafka } from 'kafkajs';\nexport const k = Kafka;\n", 'src/kafka/example.ts')).toEqual([]);
  });

  it('keep imports with the flow: src/kafka uses no processor, src/db neither the runner nor a processor', async () => {
    expect(await ruleIds("import type { DecideContext } from '../processors/context.ts';\nexport type C = DecideContext;\n", 'src/kafka/example.ts')).toContain('no-restricted-imports');
    expect(await ruleIds("import type { DedupeOutput } from '../processors/dedupe/decide.ts';\nexport type O = DedupeOutput;\n", 'src/kafka/example.ts')).toContain('no-restricted-imports');
    expect(await ruleIds("import type { Sink } from '../kafka/runner.ts';\nexport type S = Sink<never>;\n", 'src/db/example.ts')).toContain('no-restricted-imports');
    expect(await ruleIds("import type { Sink } from '../processor.ts';\nexport type S = Sink<never>;\n", 'src/db/example.ts')).toEqual([]);
    expect(await ruleIds("import type { DecideContext } from '../processor.ts';\nexport type C = DecideContext;\n", 'src/kafka/example.ts')).toEqual([]);
  });
});

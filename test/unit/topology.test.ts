import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ROLES } from '../../src/config.ts';
import { topicNames, TOPICS } from '../../src/kafka/topics.ts';
import type { Codec } from '../../src/kafka/codec.ts';
import { createTransactionalSink, UndeclaredOutputError } from '../../src/kafka/transactional-sink.ts';
import { formatTopology } from '../../src/cli/topology.ts';
import { groupId, processorsOf, PROCESSORS, ROLE_TABLE, roleOf, SINK_KINDS, sinkTopicsOf, sourcesOf, topicLabel, type ProcessorDecl, type ProcessorName } from '../../src/topology.ts';
import { dedupeProcessor } from '../../src/processors/dedupe/adapter.ts';
import { routerProcessor } from '../../src/processors/router/adapter.ts';
import type { DedupeOutput } from '../../src/processors/dedupe/decide.ts';
import type { RouterOutput } from '../../src/processors/router/decide.ts';

const names = topicNames('');
const processors = Object.keys(PROCESSORS) as ProcessorName[];

/** README's row of a processor, rendered from the declaration. */
function readmeRow(name: ProcessorName): string {
  const decl: ProcessorDecl = PROCESSORS[name];
  const code = (text: string) => `\`${text}\``;
  const sources = decl.sources.map((s) => `${code(topicLabel(s.topic, names))}${s.tombstones ? ' (tombstones)' : ''}`).join(', ');
  const sinks = [
    ...decl.sinks.map((key) => code(topicLabel(key, names))),
    ...(decl.rows ? [`tables ${decl.rows.map(code).join(', ')}`] : []),
    ...(decl.sink === 'sockets' ? ['WebSocket frames'] : []),
  ].join(', ');
  const deadLetters = decl.deadLetters ? code(names[decl.deadLetters]) : '—';
  return `| ${code(name)} | ${code(roleOf(name))} | ${sources} | ${sinks} | ${deadLetters} | ${SINK_KINDS[decl.sink].label} | ${code(groupId(name, '', '<instance id>'))} |`;
}

/** Tripwires: a sink that reaches the codec (or, for a tombstone, asks the cluster for the topic's limits) let the record through its declared-output check. */
const reached = new Error('passed the declared-output check');
const failingCodec = { encode: async () => { throw reached; } } as unknown as Codec;
const failingKafka = { admin: () => { throw reached; } } as never;

describe('topology', () => {
  it('README\'s topology table lists exactly the declared processors, row by row', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.split('\n## Architecture\n')[1]?.split('\n## ')[0] ?? '';
    const rows = section.split('\n').filter((line) => /^\| `[a-z-]+` \| `[a-z]+` \|/.test(line));
    expect(rows).toEqual(processors.map(readmeRow));
  });

  it('maps every processor to exactly one role, and the roles are those TIDINGS_ROLES accepts', () => {
    expect(Object.keys(ROLE_TABLE)).toEqual([...ROLES]);
    const listed = Object.values(ROLE_TABLE).flatMap((r) => [...r.processors]);
    expect(listed.sort()).toEqual([...processors].sort());
    expect(processorsOf([...ROLES])).toEqual(processors);
    expect(processorsOf(['gateway', 'api', 'dedupe'])).toEqual(['dedupe', 'gateway']);
    expect(processorsOf(['ingest', 'api'])).toEqual([]);
  });

  it('builds group ids from the prefix, and the gateway\'s from the instance id too', () => {
    expect(groupId('dedupe', 'staging.')).toBe('staging.tidings.dedupe');
    expect(groupId('projector', '')).toBe('tidings.projector');
    expect(groupId('gateway', 'p.', 'host-1')).toBe('p.tidings.gateway.host-1');
    expect(() => groupId('gateway', 'p.')).toThrow(TypeError);
  });

  it('gives the runner each source with its value schema and tombstone flag', () => {
    expect(sourcesOf('router', topicNames('x.'))).toEqual([
      { topic: 'x.notification.accepted', schema: TOPICS.accepted.value },
      { topic: 'x.notification.preferences', schema: 'PreferenceSet', tombstones: true },
      { topic: 'x.notification.recipients', schema: 'Recipient', tombstones: true },
      { topic: 'x.notification.webhooks', schema: 'WebhookEndpoints', tombstones: true },
    ]);
  });

  it('prints sources → processor → sinks and the group id of every processor, without any service', () => {
    const text = formatTopology('staging.', 'host-1').join('\n');
    for (const name of processors) {
      expect(text).toContain(`processor ${name}\n`);
      expect(text).toContain(groupId(name, 'staging.', 'host-1'));
      for (const s of PROCESSORS[name].sources) expect(text).toContain(topicNames('staging.')[s.topic]);
    }
    expect(text).toContain('→ sinks      staging.notification.events, staging.notification.dedupe, staging.notification.accepted, staging.notification.timers\n');
  });
});

describe('tidings topology', () => {
  it('prints the topology in a process that loads nothing of the local stack and reaches no service', () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const forbidStack = fileURLToPath(new URL('../integration/forbid-stack.mjs', import.meta.url));
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--import', forbidStack, 'src/main.ts', 'topology'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      // Services that do not exist: a command that needed one would fail.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TIDINGS_TOPIC_PREFIX: 'staging.', TIDINGS_INSTANCE_ID: 'web-1', KAFKA_BROKERS: 'nowhere.invalid:9092' },
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.trimEnd()).toBe(formatTopology('staging.', 'web-1').join('\n').trimEnd());
    expect(run.stdout).toContain('group id     staging.tidings.gateway.web-1 ');
  }, 60_000);
});

describe('transactional sink', () => {
  it('refuses a record for a topic its processor did not declare, naming processor and topic', async () => {
    const sink = createTransactionalSink<string>({
      kafka: undefined as never,
      codec: failingCodec,
      processor: 'dedupe',
      groupId: groupId('dedupe', ''),
      transactionalIdPrefix: groupId('dedupe', ''),
      deadLetterTopic: names.eventsDlq,
      outputs: sinkTopicsOf('dedupe', names),
      // Never encoded: the check refuses the topic first, or the failing codec stops it.
      toRecords: (topic) => [{ topic, key: 'k', value: {} as never }],
    });
    await expect(sink.encode?.([names.inbox], 0)).rejects.toThrow(UndeclaredOutputError);
    await expect(sink.encode?.([names.inbox], 0)).rejects.toThrow('processor dedupe may not write to notification.inbox');
    await expect(sink.encode?.([names.accepted], 0)).rejects.toBe(reached);
  });

  it('lets through every output dedupe and the router write, since their declarations name those topics', async () => {
    const table = { kafka: failingKafka, codec: failingCodec, topics: names, prefix: '', log: undefined as never };
    const dedupe = dedupeProcessor({ ...table, windowMs: 1, defaultDelays: {}, directory: undefined as never });
    const router = routerProcessor({ ...table, globalWebhook: undefined });
    const notification = { user_id: 'u' } as never;
    const dedupeOutputs: DedupeOutput[] = [
      { kind: 'repartition', key: 'k', partition: 0, event: {} as never },
      { kind: 'fan_out', key: 'k', partition: 0, event: {} as never },
      { kind: 'remember', entry: { source_key: 'k' } as never },
      { kind: 'accepted', notification },
      { kind: 'forget', sourceKey: 'k' },
      { kind: 'timer', timer: { timer_key: 'k' } as never },
    ];
    const routerOutputs: RouterOutput[] = [
      { kind: 'inbox', notification },
      { kind: 'deliver', command: { channel: 'email', user_id: 'u', notification: { type: 'job_failed', severity: 'error' } } as never },
      { kind: 'deliver', command: { channel: 'email', user_id: 'u', notification: { type: 'job_failed', severity: 'critical' } } as never },
      { kind: 'deliver', command: { channel: 'webhook', user_id: 'u' } as never },
      { kind: 'audit', event: { user_id: 'u' } as never },
    ];
    for (const output of dedupeOutputs) await expect(dedupe.sink.encode?.([output], 0)).rejects.toBe(reached);
    for (const output of routerOutputs) await expect(router.sink.encode?.([output], 0)).rejects.toBe(reached);
  });
});

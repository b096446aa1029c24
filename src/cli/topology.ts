/** `tidings topology`: prints the declared topology (src/topology.ts): sources → processor → sinks, with group ids. Needs no service. */
import type { Config } from '../config.ts';
import { topicNames } from '../kafka/topics.ts';
import { groupId, PROCESSORS, ROLE_TABLE, SINK_KINDS, topicLabel, type ProcessorDecl, type ProcessorName, type Role, type RoleDecl } from '../topology.ts';

/** The lines `tidings topology` prints for a topic prefix; a per-instance group shows `instanceId` (a placeholder when unset). */
export function formatTopology(prefix: string, instanceId = '<instance id>'): string[] {
  const names = topicNames(prefix);
  const lines: string[] = [];
  for (const role of Object.keys(ROLE_TABLE) as Role[]) {
    const decl: RoleDecl = ROLE_TABLE[role];
    lines.push(`role ${role}${decl.serves ? `: serves ${decl.serves}` : ''}`);
    if (decl.publishes) lines.push(`  publishes     ${decl.publishes.map((key) => names[key]).join(', ')}`);
    for (const processor of decl.processors) lines.push(...formatProcessor(processor, prefix, instanceId));
    lines.push('');
  }
  return lines;
}

function formatProcessor(processor: ProcessorName, prefix: string, instanceId: string): string[] {
  const names = topicNames(prefix);
  const decl: ProcessorDecl = PROCESSORS[processor];
  const sources = decl.sources.map((s) => `${topicLabel(s.topic, names)}${s.tombstones ? ' (tombstones)' : ''}`);
  const sinks = [...decl.sinks.map((key) => topicLabel(key, names)), ...(decl.rows ?? []).map((table) => `table ${table}`), ...(decl.sink === 'sockets' ? ['WebSocket frames'] : [])];
  const kind = SINK_KINDS[decl.sink];
  const line = (label: string, text: string) => `    ${label.padEnd(13)}${text}`;
  return [
    `  processor ${processor}`,
    line('sources', sources.join(', ')),
    line('→ sinks', sinks.join(', ')),
    line('sink', `${kind.label}: ${kind.guarantee}`),
    ...(decl.deadLetters ? [line('dead letters', names[decl.deadLetters])] : []),
    line('group id', `${groupId(processor, prefix, instanceId)} (${decl.group === 'shared' ? 'shared by every instance' : 'one per instance'}; starts at the ${decl.start} without offsets)`),
  ];
}

export function topologyCommand(config: Config): number {
  console.log(formatTopology(config.topicPrefix, config.instanceId).join('\n').trimEnd());
  return 0;
}

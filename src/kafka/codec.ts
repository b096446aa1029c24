/**
 * Avro in the Confluent wire format through a schema registry. Schemas are
 * read from schemas/ and registered at start under TopicNameStrategy subjects
 * with BACKWARD compatibility. Decoding always resolves to the reader schema
 * in schemas/, so older writers keep working after a compatible change.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SchemaRegistry, SchemaType, COMPATIBILITY } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { DecodeError, TransientError, ValidationError } from '../errors.ts';
import { isSchemaName, SCHEMAS, TOPICS, valueSubject, type SchemaName, type SchemaTopic, type SchemaValue, type TopicName, type TopicNames, type TopicValue } from './topics.ts';

/**
 * The schema of schemas/, with the records it names from other files (such as
 * "io.tidings.Notification") written in where first used, so that every
 * registered schema stands alone.
 */
export function readSchema(name: SchemaName): Record<string, unknown> {
  let schema = schemas.get(name);
  if (!schema) {
    schema = inlineNamedTypes(readSchemaFile(name), new Set([`io.tidings.${name}`])) as Record<string, unknown>;
    schemas.set(name, schema);
  }
  return schema;
}

const schemas = new Map<SchemaName, Record<string, unknown>>();

function inlineNamedTypes(node: unknown, defined: Set<string>): unknown {
  if (typeof node === 'string') {
    const referenced = node.startsWith('io.tidings.') ? node.slice('io.tidings.'.length) : undefined;
    if (referenced && isSchemaName(referenced) && !defined.has(node)) {
      defined.add(node);
      return inlineNamedTypes(readSchemaFile(referenced), defined);
    }
    return node;
  }
  if (Array.isArray(node)) return node.map((item) => inlineNamedTypes(item, defined));
  if (typeof node === 'object' && node !== null) {
    const record = node as Record<string, unknown>;
    if (typeof record.name === 'string' && (record.type === 'record' || record.type === 'enum')) defined.add(`io.tidings.${record.name}`);
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, k === 'type' || k === 'items' || k === 'fields' ? inlineNamedTypes(v, defined) : v]));
  }
  return node;
}

function readSchemaFile(name: SchemaName): Record<string, unknown> {
  const url = new URL(`../../schemas/${SCHEMAS[name].file}`, import.meta.url);
  return JSON.parse(readFileSync(fileURLToPath(url), 'utf8')) as Record<string, unknown>;
}

const types = new Map<SchemaName, avro.Type>();

/** The avsc type of a schema, parsed once. */
export function avroType(name: SchemaName): avro.Type {
  let type = types.get(name);
  if (!type) {
    type = avro.Type.forSchema(readSchema(name) as avro.Schema, { wrapUnions: false });
    types.set(name, type);
  }
  return type;
}

/**
 * Every way `value` does not fit schema `name`, as "path: reason" lines; empty when it fits.
 * Fields the schema does not declare are reported too.
 */
export function schemaViolations(name: SchemaName, value: unknown): string[] {
  const type = avroType(name) as avro.types.RecordType;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`(record): must be an object with the fields of ${name}`];
  const declared = new Set(type.fields.map((f) => f.name));
  const reasons = Object.keys(value).filter((k) => !declared.has(k)).map((k) => `${k}: is not a field of ${name}`);
  // Without noUndeclaredFields avsc checks every field and calls the hook once per bad one.
  type.isValid(value, {
    errorHook(path: string[], got: unknown, fieldType: avro.Type) {
      reasons.push(`${path.join('.') || '(record)'}: ${describe(got)} is not a valid ${typeLabel(fieldType)}`);
    },
  });
  return reasons;
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing value';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function typeLabel(type: avro.Type): string {
  if (type.typeName === 'enum') return `enum (${(type as avro.types.EnumType).symbols.join(', ')})`;
  if (type.typeName === 'union:unwrapped') return (type as avro.types.UnwrappedUnionType).types.map(typeLabel).join(' or ');
  return type.typeName;
}

/** A decoded record of one of a processor's input topics: which topic, and its value typed by that topic's schema (null for a tombstone of a compacted topic). */
export type TopicRecord<K extends SchemaTopic> = { [P in K]: { from: P; value: TopicValue<P> | ((typeof TOPICS)[P]['cleanup'] extends 'delete' ? never : null) } }[K];

/**
 * Which of `keys` a decoded input record came from, with its value typed by
 * that topic's schema: the runner decoded it with the schema its processor
 * declared for the topic, TOPICS[key].value.
 * @throws TypeError when the record is from none of them
 */
export function fromTopic<K extends SchemaTopic>(record: { topic: string; value: unknown }, names: TopicNames, keys: readonly K[]): TopicRecord<K> {
  const from = keys.find((key) => names[key] === record.topic);
  if (from === undefined) throw new TypeError(`unexpected input from ${record.topic}`);
  return { from, value: record.value } as TopicRecord<K>;
}

export interface Codec {
  /** Registers the schemas with BACKWARD compatibility; returns subject → id. */
  register(subjects: { topic: string; schema: SchemaName }[]): Promise<Map<string, number>>;
  /** Validates then encodes for `topic` (its schema must be registered); the value is typed by the topic's schema. */
  encode<K extends SchemaTopic>(topic: TopicName<K>, value: TopicValue<K>): Promise<Buffer>;
  /** Decodes a Confluent-framed Avro value into the shape of schema `name`. */
  decode<N extends SchemaName>(name: N, buffer: Buffer | null): Promise<SchemaValue<N>>;
  /**
   * decode without a promise when its writer schema is known already (every
   * record after the first of a schema id); undefined when it is not, and
   * decode must ask the registry. Throws as decode rejects.
   */
  decodeKnown<N extends SchemaName>(name: N, buffer: Buffer | null): SchemaValue<N> | undefined;
}

/** Subjects registered at once. */
const REGISTER_CONCURRENCY = 8;

export function createCodec(registryUrl: string): Codec {
  const registry = new SchemaRegistry({ host: registryUrl, retry: { retries: 5 } }, { [SchemaType.AVRO]: { wrapUnions: false } });
  const ids = new Map<string, { id: number; schema: SchemaName }>();
  // One resolver per reader schema and writer schema id: building one per record was most of the decoding cost.
  const resolvers = new Map<string, avro.Resolver | 'same'>();

  const decodeKnown: Codec['decodeKnown'] = (name, buffer) => {
    if (buffer === null || buffer.length === 0) throw new DecodeError('empty value (tombstone) where a record was expected');
    if (buffer.length < 5 || buffer[0] !== 0) throw new DecodeError('not in the Confluent wire format (no magic byte 0 and schema id)');
    const resolver = resolvers.get(`${name}:${buffer.readInt32BE(1)}`);
    if (resolver === undefined) return undefined;
    try {
      const reader = avroType(name);
      const payload = buffer.subarray(5);
      return resolver === 'same' ? reader.fromBuffer(payload) : reader.fromBuffer(payload, resolver);
    } catch (err) {
      throw classifyDecodeFailure(err, buffer);
    }
  };

  return {
    async register(subjects) {
      // Subjects are independent: a few at a time (each is several requests to the registry; one after another
      // they took ~0.4 s of every start).
      const registered: { topic: string; schema: SchemaName; subject: string; id: number }[] = new Array(subjects.length);
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < subjects.length; i = next++) {
          const { topic, schema } = subjects[i]!;
          const subject = valueSubject(topic);
          const { id } = await registry
            .register({ type: SchemaType.AVRO, schema: JSON.stringify(readSchema(schema)) }, { subject, compatibility: COMPATIBILITY.BACKWARD })
            .catch((err: Error) => {
              throw new TransientError(`registering ${subject} failed: ${err.message}`, { cause: err });
            });
          registered[i] = { topic, schema, subject, id };
        }
      };
      await Promise.all(Array.from({ length: Math.min(REGISTER_CONCURRENCY, subjects.length) }, worker));
      const result = new Map<string, number>();
      for (const { topic, schema, subject, id } of registered) {
        ids.set(topic, { id, schema });
        result.set(subject, id);
      }
      return result;
    },

    async encode(topic, value) {
      const entry = ids.get(topic);
      if (!entry) throw new TypeError(`no schema registered for topic ${topic}`);
      const reasons = schemaViolations(entry.schema, value);
      if (reasons.length > 0) throw new ValidationError(reasons);
      // The schema registered under entry.id is avroType(entry.schema): framed here, as the registry client would.
      return frame(entry.id, avroType(entry.schema), value);
    },

    async decode(name, buffer) {
      const known = decodeKnown(name, buffer);
      if (known !== undefined) return known;
      const framed = buffer!; // decodeKnown threw for anything else
      try {
        // The registry client caches writer schemas by id; the reader type and the resolver are cached here.
        const writerId = framed.readInt32BE(1);
        const reader = avroType(name);
        const writer = (await registry.getSchema(writerId)) as unknown as avro.Type;
        resolvers.set(`${name}:${writerId}`, reader.equals(writer) ? 'same' : reader.createResolver(writer));
      } catch (err) {
        throw classifyDecodeFailure(err, framed);
      }
      return decodeKnown(name, framed)!;
    },

    decodeKnown,
  };
}

let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * The Confluent wire format of `value`: magic byte 0, the schema id (int32),
 * the Avro bytes. Written into a scratch buffer and copied once into a buffer
 * of the exact size; the registry client's encode allocates a zeroed buffer,
 * copies it, and concatenates the header in a third.
 */
export function frame(id: number, type: avro.Type, value: unknown): Buffer {
  for (;;) {
    // avsc: the position after the value, or, when the buffer is too small, minus the bytes missing.
    const end = type.encode(value, scratch, 5);
    if (end < 0) {
      scratch = Buffer.allocUnsafe(2 * (scratch.length - end));
      continue;
    }
    scratch[0] = 0;
    scratch.writeInt32BE(id, 1);
    return Buffer.from(scratch.subarray(0, end));
  }
}

function classifyDecodeFailure(err: unknown, buffer: Buffer): Error {
  const message = err instanceof Error ? err.message : String(err);
  const status = (err as { status?: number }).status;
  // An unknown schema id is the producer's mistake; a registry that does not answer is ours.
  if (status === 404 || /not found/i.test(message)) return new DecodeError(`schema id ${buffer.readInt32BE(1)} is unknown to the registry`, { cause: err });
  if (typeof status === 'number' && status >= 500) return new TransientError(`schema registry: ${message}`, { cause: err });
  if (/ECONNREFUSED|ETIMEDOUT|ECONNRESET|socket hang up|fetch failed/i.test(message)) return new TransientError(`schema registry: ${message}`, { cause: err });
  return new DecodeError(`undecodable Avro: ${message}`, { cause: err });
}

/**
 * The JSON Schema of POST /v1/events' body, generated from the NotificationEvent
 * Avro schema so the OpenAPI document follows schemas/notification-event.avsc.
 * It describes the JSON body's conveniences (see event-body.ts): `data` is an
 * object, `occurred_at` an ISO time or ms and optional, fields with an Avro
 * default may be left out.
 */
import { readSchema } from '../kafka/codec.ts';
import { CATALOGUE } from '../model/catalogue.ts';
import { dataJsonSchema } from '../model/data-schema.ts';

type JsonSchema = Record<string, unknown>;

interface AvroField {
  name: string;
  type: unknown;
  default?: unknown;
  doc?: string;
}

/** Where the JSON body differs from the Avro record, per field. */
const BODY_FIELDS: Record<string, JsonSchema> = {
  data: dataFieldSchema(),
  occurred_at: {
    anyOf: [{ type: 'string', format: 'date-time' }, { type: 'integer', minimum: 1 }],
    description: 'When it happened: an ISO 8601 time or ms since the epoch; now when left out.',
  },
};

/**
 * `data`: an object, free-form for most types; the catalogue's types with a
 * data schema list theirs, one `anyOf` branch per type titled by the type.
 */
function dataFieldSchema(): JsonSchema {
  const typed = Object.entries(CATALOGUE).flatMap(([type, info]) => (info.data ? [{ ...dataJsonSchema(info.data), title: type }] : []));
  return {
    type: ['object', 'null'],
    description: `Type-specific details as a JSON object; null or left out for none. Events of type ${typed.map((t) => t.title).join(', ')} must carry data fitting `
      + 'the branch titled by their type (400 with the reasons otherwise); any other type takes free-form data.',
    anyOf: [...typed, { title: 'any other type', type: 'object', additionalProperties: true }, { type: 'null' }],
  };
}

/** The body schema of POST /v1/events. */
export function eventBodyJsonSchema(): JsonSchema {
  // Fields the record does not declare are refused (schemaViolations); inside audience they are ignored.
  return { ...recordSchema(readSchema('NotificationEvent'), BODY_FIELDS), additionalProperties: false };
}

function recordSchema(record: Record<string, unknown>, overrides: Record<string, JsonSchema> = {}): JsonSchema {
  const fields = record.fields as AvroField[];
  const properties = Object.fromEntries(fields.map((field) => {
    const schema = overrides[field.name] ?? withDoc(typeSchema(field.type), field.doc);
    return [field.name, field.default === undefined ? schema : { ...schema, default: field.default }];
  }));
  const required = fields.filter((f) => f.default === undefined && overrides[f.name] === undefined).map((f) => f.name);
  return withDoc({ type: 'object', properties, ...(required.length > 0 ? { required } : {}) }, record.doc as string | undefined);
}

function typeSchema(type: unknown): JsonSchema {
  if (Array.isArray(type)) {
    const members = type.filter((t) => t !== 'null').map(typeSchema);
    const nullable = members.length < type.length;
    if (members.length === 1 && nullable) return nullableOf(members[0]!);
    return { anyOf: nullable ? [...members, { type: 'null' }] : members };
  }
  if (typeof type === 'object' && type !== null) {
    const complex = type as Record<string, unknown>;
    switch (complex.type) {
      case 'record': return recordSchema(complex);
      case 'enum': return withDoc({ type: 'string', enum: complex.symbols }, complex.doc as string | undefined);
      case 'array': return { type: 'array', items: typeSchema(complex.items) };
      case 'map': return { type: 'object', additionalProperties: typeSchema(complex.values) };
      default: return typeSchema(complex.type);
    }
  }
  switch (type) {
    case 'string': return { type: 'string' };
    case 'boolean': return { type: 'boolean' };
    case 'int': case 'long': return { type: 'integer' };
    case 'float': case 'double': return { type: 'number' };
    case 'null': return { type: 'null' };
    default: throw new TypeError(`no JSON Schema for Avro type ${JSON.stringify(type)}`);
  }
}

function nullableOf(schema: JsonSchema): JsonSchema {
  return typeof schema.type === 'string' ? { ...schema, type: [schema.type, 'null'] } : { anyOf: [schema, { type: 'null' }] };
}

function withDoc(schema: JsonSchema, doc: string | undefined): JsonSchema {
  return doc === undefined ? schema : { ...schema, description: doc };
}

/**
 * The `data` a notification type carries, described as a small subset of JSON
 * Schema (object, string, integer, number, boolean; enum, format, maxLength,
 * required, additionalProperties), and the one validator for it. The same
 * description is shown in the OpenAPI document, so it is written as plain JSON
 * Schema rather than as code.
 */

export type FieldFormat = 'uuid' | 'date-time' | 'uri';

export interface FieldSchema {
  type: 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  enum?: readonly string[];
  format?: FieldFormat;
  /** characters */
  maxLength?: number;
  minimum?: number;
  /** an optional field may also be null, as the seeds' records allow */
  nullable?: boolean;
}

export interface DataSchema {
  type: 'object';
  description?: string;
  properties: Readonly<Record<string, FieldSchema>>;
  required: readonly string[];
  /** false: fields not listed are refused (a misspelt field would otherwise pass unnoticed) */
  additionalProperties: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** RFC 3339 date-time: a date, a time and an offset (Date.parse alone takes "2024" or "May 5"). */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** Every way parsed JSON object `data` breaks `schema`, as "data.field: reason"; empty when it fits. */
export function dataViolations(schema: DataSchema, data: Record<string, unknown>): string[] {
  const reasons: string[] = [];
  for (const field of schema.required) {
    if (data[field] === undefined || data[field] === null) reasons.push(`data.${field}: required`);
  }
  for (const [field, value] of Object.entries(data)) {
    const fieldSchema = schema.properties[field];
    if (!fieldSchema) {
      if (!schema.additionalProperties) reasons.push(`data.${field}: is not a field of this type's data (fields: ${Object.keys(schema.properties).join(', ')})`);
      continue;
    }
    if (value === null && !schema.required.includes(field)) continue;
    const problem = fieldProblem(fieldSchema, value);
    if (problem) reasons.push(`data.${field}: ${problem}`);
  }
  return reasons;
}

function fieldProblem(schema: FieldSchema, value: unknown): string | undefined {
  switch (schema.type) {
    case 'string': {
      if (typeof value !== 'string') return 'must be a string';
      if (schema.enum && !schema.enum.includes(value)) return `must be one of ${schema.enum.join(', ')}`;
      if (schema.maxLength !== undefined && value.length > schema.maxLength) return `longer than ${schema.maxLength} characters`;
      if (schema.format) return formatProblem(schema.format, value);
      return undefined;
    }
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return 'must be an integer';
      return schema.minimum !== undefined && value < schema.minimum ? `must be at least ${schema.minimum}` : undefined;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a number';
      return schema.minimum !== undefined && value < schema.minimum ? `must be at least ${schema.minimum}` : undefined;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
  }
}

function formatProblem(format: FieldFormat, value: string): string | undefined {
  switch (format) {
    case 'uuid': return UUID.test(value) ? undefined : 'must be a UUID';
    case 'date-time': return DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)) ? undefined : 'must be an ISO 8601 time with a time zone (2025-12-23T10:30:00Z)';
    case 'uri': return isHttpUrl(value) ? undefined : 'must be an http(s) URL';
  }
}

/** Whether `text` is an absolute http(s) URL. */
export function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** `schema` as OpenAPI shows it: JSON Schema, nullable fields as a type list. */
export function dataJsonSchema(schema: DataSchema): Record<string, unknown> {
  const properties = Object.fromEntries(Object.entries(schema.properties).map(([name, { nullable, ...field }]) => (
    [name, nullable ? { ...field, type: [field.type, 'null'] } : field]
  )));
  return { ...schema, properties, required: [...schema.required] };
}

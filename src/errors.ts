/**
 * Every error Tidings raises on purpose has a code, an HTTP status and a kind:
 * - transient: retry with backoff (a broker or database hiccup);
 * - poison: this input can never succeed; dead-letter it with the reason and move on;
 * - bug: anything else; crash and let the supervisor restart.
 */
export type ErrorKind = 'transient' | 'poison' | 'bug';

export class TidingsError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly statusCode: number;

  constructor(code: string, message: string, kind: ErrorKind, statusCode = 500, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TidingsError';
    this.code = code;
    this.kind = kind;
    this.statusCode = statusCode;
  }

  get retriable(): boolean {
    return this.kind === 'transient';
  }
}

/** Bad settings; the message lists every problem, one per line. */
export class ConfigError extends TidingsError {
  readonly problems: readonly string[];

  constructor(problems: string[]) {
    super('TIDINGS_CONFIG', `invalid configuration:\n  - ${problems.join('\n  - ')}`, 'bug');
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** A record or request that does not fit its schema; `reasons` says every way it does not. */
export class ValidationError extends TidingsError {
  readonly reasons: readonly string[];

  constructor(reasons: string[], options?: ErrorOptions) {
    super('TIDINGS_INVALID', `invalid: ${reasons.join('; ')}`, 'poison', 400, options);
    this.name = 'ValidationError';
    this.reasons = reasons;
  }
}

/** Bytes that cannot be decoded: no magic byte, unknown schema id, truncated Avro. */
export class DecodeError extends TidingsError {
  constructor(message: string, options?: ErrorOptions) {
    super('TIDINGS_UNDECODABLE', message, 'poison', 400, options);
    this.name = 'DecodeError';
  }
}

/** A dependency that is down or slow; worth retrying. */
export class TransientError extends TidingsError {
  constructor(message: string, options?: ErrorOptions) {
    super('TIDINGS_TRANSIENT', message, 'transient', 503, options);
    this.name = 'TransientError';
  }
}

/** An output record larger than its topic (max.message.bytes) accepts: it can never be written. */
export class RecordTooLargeError extends TidingsError {
  constructor(message: string) {
    super('TIDINGS_RECORD_TOO_LARGE', message, 'poison', 413);
    this.name = 'RecordTooLargeError';
  }
}

/** A record whose processing failed on a bug rather than on a rule; dead-lettered so that it cannot stop the pipeline. */
export class ProcessingError extends TidingsError {
  constructor(message: string, options?: ErrorOptions) {
    super('TIDINGS_PROCESSING_FAILED', message, 'poison', 500, options);
    this.name = 'ProcessingError';
  }
}

export class AuthError extends TidingsError {
  constructor(message: string, statusCode: 401 | 403 = 401) {
    super(statusCode === 401 ? 'TIDINGS_UNAUTHENTICATED' : 'TIDINGS_FORBIDDEN', message, 'poison', statusCode);
    this.name = 'AuthError';
  }
}

/** Nothing there for the caller: no such route, or a resource that does not exist or is not theirs. */
export class NotFoundError extends TidingsError {
  constructor(message: string) {
    super('TIDINGS_NOT_FOUND', message, 'poison', 404);
    this.name = 'NotFoundError';
  }
}

/**
 * A request the HTTP framework refused before a route ran (malformed JSON,
 * unsupported content type, body too large, schema): its code and status,
 * TIDINGS_BAD_REQUEST and 400 when it gives none; `reasons` says what is wrong.
 */
export class BadRequestError extends TidingsError {
  readonly reasons: readonly string[];

  constructor(message: string, reasons: string[], statusCode = 400, code = 'TIDINGS_BAD_REQUEST', options?: ErrorOptions) {
    super(code, message, 'poison', statusCode, options);
    this.name = 'BadRequestError';
    this.reasons = reasons;
  }
}

/** What a client is told of a failure that is not a TidingsError: nothing of its cause, which is logged instead. */
export class InternalError extends TidingsError {
  constructor(statusCode = 500, options?: ErrorOptions) {
    super('TIDINGS_INTERNAL', 'internal error', 'bug', statusCode, options);
    this.name = 'InternalError';
  }
}

/** A sealed secret that does not open: altered, moved, or sealed with another key. */
export class SecretError extends TidingsError {
  constructor(message: string) {
    super('TIDINGS_SECRET', message, 'bug', 500);
    this.name = 'SecretError';
  }
}

export class StackError extends TidingsError {
  constructor(message: string, options?: ErrorOptions) {
    super('TIDINGS_STACK', message, 'bug', 500, options);
    this.name = 'StackError';
  }
}

/**
 * Classifies any thrown value. Programmer errors (TypeError, RangeError …) are bugs,
 * never retried; errors from kafkajs and pg say themselves whether they are retriable.
 */
export function errorKind(err: unknown): ErrorKind {
  if (err instanceof TidingsError) return err.kind;
  if (err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError || err instanceof ReferenceError) return 'bug';
  if (typeof err === 'object' && err !== null && 'retriable' in err && (err as { retriable: unknown }).retriable === true) return 'transient';
  const code = (err as { code?: unknown } | null)?.code;
  // Postgres: connection lost (08), out of resources (53), shutting down (57P), serialization failure or deadlock (40).
  if (typeof code === 'string' && /^(08|53|57P|40)/.test(code)) return 'transient';
  if (typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code)) return 'transient';
  return 'bug';
}

/**
 * Kafka error types a produce request gets for what it carries: narrowing the
 * batch down finds the records. Fencing, authorisation and coordinator errors
 * are faults of the process or the cluster and are not listed.
 */
const KAFKA_INPUT_FAULTS = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'CORRUPT_MESSAGE', 'INVALID_TIMESTAMP', 'INVALID_RECORD_STATE']);

/**
 * Postgres SQLSTATE classes caused by the values written: 22 data exception
 * (bad text, out of range, over-deep JSON), 23 integrity constraint, 54 program
 * limit exceeded (an index row or a statement too large). Connection (08),
 * authorisation (28), schema (42) and resource (53) errors are not.
 */
const PG_INPUT_FAULT_CLASSES = new Set(['22', '23', '54']);

/**
 * Whether a batch write that failed with `err` may have failed because of some
 * of its records, so that splitting the batch and dead-lettering the records
 * that still fail alone lets the pipeline move on. Environment faults are not.
 */
export function mayBeCausedByInput(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 5; depth++) {
    if (e instanceof TidingsError) return e.kind === 'poison';
    if (e instanceof RangeError) return true; // over-deep or over-long values
    const { type, code } = e as { type?: unknown; code?: unknown };
    if (typeof type === 'string' && KAFKA_INPUT_FAULTS.has(type)) return true;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return PG_INPUT_FAULT_CLASSES.has(code.slice(0, 2));
    e = (e as { cause?: unknown; originalError?: unknown }).originalError ?? (e as { cause?: unknown }).cause;
  }
  return false;
}

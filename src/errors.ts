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

export class AuthError extends TidingsError {
  constructor(message: string, statusCode: 401 | 403 = 401) {
    super(statusCode === 401 ? 'TIDINGS_UNAUTHENTICATED' : 'TIDINGS_FORBIDDEN', message, 'poison', statusCode);
    this.name = 'AuthError';
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
  return 'bug';
}

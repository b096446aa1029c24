/**
 * The one root logger. Modules take a child with their own bindings
 * (processor, topic, partition, offset); nothing else writes to stdout.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

const REDACT = [
  'password', '*.password', 'token', '*.token', 'secret', '*.secret', 'authorization', '*.authorization',
  'headers.authorization', 'req.headers.authorization', 'req.headers.cookie',
  'email', '*.email', 'to', '*.to', 'databaseUrl', 'smtpUrl', 'jwtSecret', 'secretKey', 'secret_encrypted', '*.secret_encrypted',
];

/**
 * @param level pino level
 * @param destination defaults to stdout; tests and the CLI may pass a stream
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'tidings' },
      redact: { paths: REDACT, censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { loadConfig, SETTINGS, ROLES, smtpUrlsOf, tiersOf } from '../../src/config.ts';
import { ConfigError } from '../../src/errors.ts';
import { configuredEndpoints } from '../../src/endpoints.ts';

describe('loadConfig', () => {
  it('given nothing, then the defaults hold and unset services stay unset', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ httpHost: '127.0.0.1', httpPort: 3000, partitions: 6, roles: [...ROLES], topicPrefix: '', logLevel: 'info' });
    expect(config.kafkaBrokers).toBeUndefined();
    expect(config.databaseUrl).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('given valid settings, then they are parsed', () => {
    const config = loadConfig({ KAFKA_BROKERS: 'a:9092, b:9093', TIDINGS_ROLES: 'gateway,ingest', TIDINGS_WS_ORIGINS: 'https://app.test', DATABASE_URL: 'postgres://u:p@h/db' });
    expect(config.kafkaBrokers).toEqual(['a:9092', 'b:9093']);
    expect(config.roles).toEqual(['gateway', 'ingest']);
    expect(config.wsOrigins).toEqual(['https://app.test']);
  });

  it('given several bad settings, then every problem is reported at once', () => {
    let thrown: unknown;
    try {
      loadConfig({
        TIDINGS_HTTP_PORT: 'eighty',
        KAFKA_BROKERS: 'localhost',
        DATABASE_URL: 'mysql://x/y',
        TIDINGS_JWT_SECRET: 'short',
        TIDINGS_ROLES: 'gateway,mailer',
        LOG_LEVEL: 'loud',
        TIDINGS_PARTITIONS: '0',
      });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).problems).toEqual([
      'TIDINGS_HTTP_PORT must be an integer, got "eighty"',
      'TIDINGS_ROLES must be one of ingest, api, dedupe, scheduler, router, projector, webhook, email, gateway, got "mailer"',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      'KAFKA_BROKERS "localhost" is not host:port',
      'DATABASE_URL must use postgres: or postgresql:, got mysql:',
      'TIDINGS_PARTITIONS must be between 1 and 1000, got 0',
      'TIDINGS_JWT_SECRET must be at least 32 characters',
    ]);
  });

  it('never puts a password from a bad URL into the message', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres//user:hunter2@host/db' })).toThrow(/DATABASE_URL is not a URL/);
    expect(() => loadConfig({ DATABASE_URL: 'postgres//user:hunter2@host/db' })).not.toThrow(/hunter2/);
  });

  it('given nothing, then JWTs need exp and a user may hold 10 sockets of up to 1 MiB buffered', () => {
    expect(loadConfig({})).toMatchObject({ jwtAllowNoExp: false, wsMaxConnectionsPerUser: 10, wsMaxBufferedBytes: 1024 * 1024 });
    expect(loadConfig({ TIDINGS_JWT_ALLOW_NO_EXP: 'true', TIDINGS_WS_MAX_CONNECTIONS_PER_USER: '3', TIDINGS_WS_MAX_BUFFERED_BYTES: '65536' }))
      .toMatchObject({ jwtAllowNoExp: true, wsMaxConnectionsPerUser: 3, wsMaxBufferedBytes: 65536 });
  });

  it('given a boolean that is not one, or a socket cap of 0, then both are reported', () => {
    let thrown: unknown;
    try {
      loadConfig({ TIDINGS_JWT_ALLOW_NO_EXP: 'yes', TIDINGS_WS_MAX_CONNECTIONS_PER_USER: '0' });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).problems).toEqual([
      'TIDINGS_JWT_ALLOW_NO_EXP must be true or false, got "yes"',
      'TIDINGS_WS_MAX_CONNECTIONS_PER_USER must be between 1 and 1000, got 0',
    ]);
  });

  const services = { KAFKA_BROKERS: 'kafka:9092', SCHEMA_REGISTRY_URL: 'http://registry:8081', DATABASE_URL: 'postgres://u:p@db/tidings', SMTP_URL: 'smtp://mail:25' };
  const secrets = { TIDINGS_JWT_SECRET: 'x'.repeat(32), TIDINGS_SECRET_KEY: Buffer.alloc(32, 7).toString('base64') };
  const problemsOf = (env: Record<string, string>): readonly string[] => {
    try {
      loadConfig(env);
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
  };

  it('given every service and both secrets, then the configuration is complete without the local stack', () => {
    expect(loadConfig({ ...services, ...secrets })).toMatchObject({ kafkaBrokers: ['kafka:9092'], jwtSecret: secrets.TIDINGS_JWT_SECRET, secretKey: secrets.TIDINGS_SECRET_KEY });
  });

  it('given every service and no secrets, then both secrets are reported missing', () => {
    expect(problemsOf(services)).toEqual([
      'TIDINGS_JWT_SECRET must be set when KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DATABASE_URL and SMTP_URL are (keys are generated only for the local stack)',
      'TIDINGS_SECRET_KEY must be set when KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DATABASE_URL and SMTP_URL are (keys are generated only for the local stack)',
    ]);
  });

  it('given every service, one secret and other bad settings, then every problem is reported together', () => {
    expect(problemsOf({ ...services, TIDINGS_JWT_SECRET: secrets.TIDINGS_JWT_SECRET, TIDINGS_HTTP_PORT: 'eighty', TIDINGS_SECRET_KEY: '' })).toEqual([
      'TIDINGS_HTTP_PORT must be an integer, got "eighty"',
      'TIDINGS_SECRET_KEY must be set when KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DATABASE_URL and SMTP_URL are (keys are generated only for the local stack)',
    ]);
  });

  it('given a service left to the local stack, then the secrets may be unset: the local stack generates them', () => {
    for (const left of Object.keys(services)) {
      const env: Record<string, string> = { ...services };
      delete env[left];
      expect(problemsOf(env)).toEqual([]);
    }
  });

  it('given every service with an invalid URL among them, then that URL and the missing secrets are reported', () => {
    expect(problemsOf({ ...services, SMTP_URL: 'http://mail' })).toEqual([
      'SMTP_URL must use smtp: or smtps:, got http:',
      'TIDINGS_JWT_SECRET must be set when KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DATABASE_URL and SMTP_URL are (keys are generated only for the local stack)',
      'TIDINGS_SECRET_KEY must be set when KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DATABASE_URL and SMTP_URL are (keys are generated only for the local stack)',
    ]);
  });

  it('given every service and both secrets, then configuredEndpoints gives them all; given less, then nothing', () => {
    expect(configuredEndpoints(loadConfig({ ...services, ...secrets }))).toEqual({
      kafkaBrokers: ['kafka:9092'], schemaRegistryUrl: 'http://registry:8081', databaseUrl: 'postgres://u:p@db/tidings', smtpUrl: 'smtp://mail:25',
      jwtSecret: secrets.TIDINGS_JWT_SECRET, secretKey: secrets.TIDINGS_SECRET_KEY,
    });
    expect(configuredEndpoints(loadConfig({ ...services, ...secrets, SMTP_URL: '' }))).toBeUndefined();
    expect(configuredEndpoints(loadConfig({}))).toBeUndefined();
  });

  it('given one SMTP URL or a comma list, then the transports are in failover order; a bad one among them is reported', () => {
    expect(smtpUrlsOf(loadConfig({ SMTP_URL: 'smtp://mail:25' }).smtpUrl!)).toEqual(['smtp://mail:25']);
    expect(smtpUrlsOf(loadConfig({ SMTP_URL: 'smtp://a:25, smtps://u:p@b:465' }).smtpUrl!)).toEqual(['smtp://a:25', 'smtps://u:p@b:465']);
    expect(() => loadConfig({ SMTP_URL: 'smtp://a:25,http://b' })).toThrow(/SMTP_URL must use smtp: or smtps:, got http:/);
  });

  it('given an SMTP password with a comma, then the list is split only before a scheme, and a bad URL is reported without its text', () => {
    expect(smtpUrlsOf(loadConfig({ SMTP_URL: 'smtp://u:p,ss@a:587,smtp://b:25' }).smtpUrl!)).toEqual(['smtp://u:p,ss@a:587', 'smtp://b:25']);
    let message = '';
    try { loadConfig({ SMTP_URL: 'smtp://a:25,smtp://u:se cret@b:x' }); } catch (err) { message = (err as Error).message; }
    expect(message).toContain('SMTP_URL URL 2 of 2 is not a URL');
    expect(message).not.toContain('se cret');
  });

  it('given nothing, then e-mail has the seed\'s rate limits, a From at localhost and its own retry tiers', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ emailFrom: 'Tidings <notifications@localhost>', emailRatePerSecond: 10, emailRatePerDay: 10_000, emailCircuitOpenMs: 30_000 });
    expect(config.emailTemplatesDir).toBeUndefined();
    expect(tiersOf(loadConfig({ TIDINGS_EMAIL_RETRY_SCHEDULE: '100ms,200ms' })).deliveryEmailRetry).toEqual([100, 200]);
    expect(() => loadConfig({ TIDINGS_EMAIL_FROM: 'nobody' })).toThrow(/TIDINGS_EMAIL_FROM/);
  });

  it('README\'s configuration table lists exactly the settings', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.split('\n## Configuration\n')[1]?.split('\n## ')[0] ?? '';
    const documented = [...section.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.values(SETTINGS).map((s) => s.env).sort());
  });
});

describe('TIDINGS_NOTIFICATION_CLEANUP_INTERVAL_MS', () => {
  it('given nothing, then expired notifications are cleaned up every minute, as Nexora\'s NOTIFICATION_CLEANUP_INTERVAL', () => {
    expect(loadConfig({}).notificationCleanupIntervalMs).toBe(60_000);
  });

  it('given a few ms (tests) or a bad value, then it is taken or reported', () => {
    expect(loadConfig({ TIDINGS_NOTIFICATION_CLEANUP_INTERVAL_MS: '5' }).notificationCleanupIntervalMs).toBe(5);
    expect(() => loadConfig({ TIDINGS_NOTIFICATION_CLEANUP_INTERVAL_MS: '0' })).toThrow(/TIDINGS_NOTIFICATION_CLEANUP_INTERVAL_MS must be between 1 and/);
  });
});

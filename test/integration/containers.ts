/**
 * The same services as the local stack, as containers, for machines with a
 * Docker engine and nothing configured. The mail catcher runs in this process.
 */
import { GenericContainer, Wait } from 'testcontainers';
import { KafkaContainer } from '@testcontainers/kafka';
import { PostgreSqlContainer } from '@testcontainers/postgresql';
import { randomBytes } from 'node:crypto';
import { startMailCatcher } from '../../src/stack/mail-catcher.ts';
import type { Endpoints } from '../../src/stack/stack.ts';

const SMTP_PORT = 21025;
const MAIL_API_PORT = 28025;

export async function startContainers(): Promise<{ endpoints: Endpoints; mailApiUrl: string; stop(): Promise<void> }> {
  const [kafka, postgres, registry] = await Promise.all([
    new KafkaContainer('confluentinc/cp-kafka:7.9.0').withKraft().start(),
    new PostgreSqlContainer('postgres:15-alpine').withDatabase('tidings').withUsername('tidings').withPassword('tidings').start(),
    new GenericContainer('apicurio/apicurio-registry:3.0.9')
      .withExposedPorts(8080)
      .withWaitStrategy(Wait.forHttp('/apis/ccompat/v7/subjects', 8080))
      .start(),
  ]);
  const mail = await startMailCatcher(SMTP_PORT, MAIL_API_PORT);
  return {
    endpoints: {
      kafkaBrokers: [`${kafka.getHost()}:${kafka.getMappedPort(9093)}`],
      schemaRegistryUrl: `http://${registry.getHost()}:${registry.getMappedPort(8080)}/apis/ccompat/v7`,
      databaseUrl: postgres.getConnectionUri(),
      smtpUrl: `smtp://127.0.0.1:${SMTP_PORT}`,
      jwtSecret: randomBytes(32).toString('base64url'),
      secretKey: randomBytes(32).toString('base64'),
    },
    mailApiUrl: `http://127.0.0.1:${MAIL_API_PORT}`,
    async stop() {
      await mail.close();
      await Promise.all([kafka.stop(), postgres.stop(), registry.stop()]);
    },
  };
}

/**
 * The same services as the local stack and docker-compose.yml, as containers
 * of the same images, for machines with a Docker engine and nothing
 * configured. The mail catcher is the project's own (src/stack/mail-catcher.ts),
 * run in this process, as the local stack and compose run it in theirs.
 */
import { GenericContainer, Wait, getContainerRuntimeClient } from 'testcontainers';
import { PostgreSqlContainer } from '@testcontainers/postgresql';
import { randomBytes } from 'node:crypto';
import { startMailCatcher } from '../../src/stack/mail-catcher.ts';
import { freePort } from '../../src/stack/process.ts';
import { KAFKA_VERSION } from '../../src/stack/kafka.ts';
import { APICURIO_VERSION } from '../../src/stack/registry.ts';
import type { Endpoints } from '../../src/endpoints.ts';

/** The images of docker-compose.yml (test/unit/compose.test.ts holds the two together). */
export const CONTAINER_IMAGES = {
  kafka: `apache/kafka:${KAFKA_VERSION}`,
  registry: `apicurio/apicurio-registry:${APICURIO_VERSION}`,
  postgres: 'postgres:15',
} as const;

export async function startContainers(): Promise<{ endpoints: Endpoints; mailApiUrl: string; stop(): Promise<void> }> {
  // A client must reach the broker at the address it advertises, so the host
  // port is chosen first and the broker listens on the same port inside.
  const host = (await getContainerRuntimeClient()).info.containerRuntime.host;
  const [kafkaPort, smtpPort, mailApiPort] = [await freePort(), await freePort(), await freePort()];
  const [kafka, postgres, registry] = await Promise.all([
    new GenericContainer(CONTAINER_IMAGES.kafka)
      .withEnvironment({
        KAFKA_NODE_ID: '1',
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_LISTENERS: `PLAINTEXT://:${kafkaPort},CONTROLLER://:9093`,
        KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${host}:${kafkaPort}`,
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_INTER_BROKER_LISTENER_NAME: 'PLAINTEXT',
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
        // As src/stack/kafka.ts and docker-compose.yml: one node, internal topics with one replica.
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS: '10',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
        KAFKA_TRANSACTION_STATE_LOG_NUM_PARTITIONS: '10',
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
        KAFKA_NUM_PARTITIONS: '1',
        KAFKA_HEAP_OPTS: '-Xmx512m',
      })
      .withExposedPorts({ container: kafkaPort, host: kafkaPort })
      .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
      .withStartupTimeout(120_000)
      .start(),
    new PostgreSqlContainer(CONTAINER_IMAGES.postgres).withDatabase('tidings').withUsername('tidings').withPassword('tidings').start(),
    new GenericContainer(CONTAINER_IMAGES.registry)
      .withEnvironment({ APICURIO_REST_DELETION_ARTIFACT_ENABLED: 'true', APICURIO_REST_DELETION_ARTIFACT_VERSION_ENABLED: 'true' })
      .withExposedPorts(8080)
      .withWaitStrategy(Wait.forHttp('/apis/ccompat/v7/subjects', 8080))
      .start(),
  ]);
  const mail = await startMailCatcher(smtpPort, mailApiPort);
  return {
    endpoints: {
      kafkaBrokers: [`${host}:${kafkaPort}`],
      schemaRegistryUrl: `http://${registry.getHost()}:${registry.getMappedPort(8080)}/apis/ccompat/v7`,
      databaseUrl: postgres.getConnectionUri(),
      smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
      jwtSecret: randomBytes(32).toString('base64url'),
      secretKey: randomBytes(32).toString('base64'),
    },
    mailApiUrl: `http://127.0.0.1:${mailApiPort}`,
    async stop() {
      await mail.close();
      await Promise.all([kafka.stop(), postgres.stop(), registry.stop()]);
    },
  };
}


/**
 * Apache Kafka, one KRaft node (broker + controller), from the official jars on
 * Maven Central. Internal topics use replication factor 1 so transactions work
 * on a single node.
 */
import { existsSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startDaemon, stopDaemon, execFileAsync, portOpen, livePid } from './process.ts';
import { STACK_PORTS, type StackPaths, type StackService } from './service.ts';
import { StackError } from '../errors.ts';

/** Kept in step with stack/kafka/pom.xml. */
export const KAFKA_VERSION = '3.9.1';
const HEAP = '-Xmx512m';

export function kafkaService(paths: StackPaths): StackService {
  const home = join(paths.stackDir, 'kafka');
  const libs = join(paths.cacheDir, `kafka-${KAFKA_VERSION}`, 'libs');
  const dataDir = join(home, 'data');
  const logsDir = join(home, 'logs');
  const configFile = join(home, 'server.properties');
  const pidFile = join(home, 'kafka.pid');
  const classpath = `${libs}/*`;
  const jvmLogging = [`-Dlog4j.configuration=file:${join(paths.root, 'stack', 'kafka', 'log4j.properties')}`, `-Dkafka.logs.dir=${logsDir}`];

  return {
    name: 'kafka',
    endpoint: `127.0.0.1:${STACK_PORTS.kafka}`,
    logFile: join(logsDir, 'server.log'),
    ports: [STACK_PORTS.kafka, STACK_PORTS.kafkaController],
    startTimeoutMs: 60_000,

    async install() {
      const marker = join(libs, '.complete');
      if (!existsSync(marker)) {
        mkdirSync(libs, { recursive: true });
        await execFileAsync('mvn', [
          '-q', '-B', '-f', join(paths.root, 'stack', 'kafka', 'pom.xml'),
          'dependency:copy-dependencies', `-DoutputDirectory=${libs}`, '-DincludeScope=runtime',
        ], { maxBuffer: 16 * 1024 * 1024 }).catch((err: Error & { stdout?: string }) => {
          throw new StackError(`Maven could not resolve Kafka ${KAFKA_VERSION}: ${err.stdout ?? err.message}`);
        });
        writeFileSync(marker, KAFKA_VERSION);
      }
      mkdirSync(logsDir, { recursive: true });
      writeFileSync(configFile, serverProperties(dataDir));
      if (!existsSync(join(dataDir, 'meta.properties'))) {
        const clusterId = randomBytes(16).toString('base64url');
        await execFileAsync('java', ['-cp', classpath, ...jvmLogging, 'kafka.tools.StorageTool', ...storageFormatArgs(clusterId, configFile)]);
      }
    },

    async isReady() {
      return livePid(pidFile) !== undefined && (await portOpen(STACK_PORTS.kafka));
    },

    async start() {
      startDaemon({
        command: 'java',
        args: [HEAP, '-Xms128m', '-XX:+UseG1GC', '-Djava.awt.headless=true', ...jvmLogging, '-cp', classpath, 'kafka.Kafka', configFile],
        cwd: home,
        logFile: join(logsDir, 'stdout.log'),
        pidFile,
      });
    },

    stop: () => stopDaemon(pidFile),
  };
}

function serverProperties(dataDir: string): string {
  const { kafka, kafkaController } = STACK_PORTS;
  return [
    '# Written by `tidings stack up`; edits are overwritten.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${kafkaController}`,
    `listeners=PLAINTEXT://127.0.0.1:${kafka},CONTROLLER://127.0.0.1:${kafkaController}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${kafka}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${dataDir}`,
    // One node: internal topics cannot have more replicas than brokers, or
    // transactions and consumer groups never become available.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=10',
    'group.initial.rebalance.delay.ms=0',
    // Topics come from Tidings' topic registry, never from a typo.
    'auto.create.topics.enable=false',
    'num.partitions=1',
    '',
  ].join('\n');
}

/** The cluster id the data folder was formatted with, for `stack status`. */
export function kafkaClusterId(paths: StackPaths): string | undefined {
  const meta = join(paths.stackDir, 'kafka', 'data', 'meta.properties');
  if (!existsSync(meta)) return undefined;
  return /cluster\.id=(\S+)/.exec(readFileSync(meta, 'utf8'))?.[1];
}

/**
 * Arguments of `StorageTool format`. Each option and its value in one
 * argument: a base64url cluster id starts with "-" one time in 64, and as a
 * separate argument argparse took it for an option and refused to format.
 */
export function storageFormatArgs(clusterId: string, configFile: string): string[] {
  return ['format', `--cluster-id=${clusterId}`, `--config=${configFile}`];
}

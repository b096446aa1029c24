/**
 * Apicurio Registry from its packaged distribution on Maven Central, serving
 * the Confluent-compatible API (/apis/ccompat/v7). 3.0.x is the newest line
 * that runs on Java 17 (3.3 needs Java 21). Its storage is an H2 file under
 * the stack folder, so schema ids survive a restart just as Kafka's records do.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, stopDaemon, execFileAsync, httpOk, livePid } from './process.ts';
import { STACK_PORTS, type StackPaths, type StackService } from './service.ts';
import { StackError } from '../errors.ts';

export const APICURIO_VERSION = '3.0.9';
const ARTIFACT = `io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`;

export function registryService(paths: StackPaths): StackService {
  const home = join(paths.stackDir, 'registry');
  const dist = join(paths.cacheDir, `apicurio-registry-${APICURIO_VERSION}`);
  const runner = join(dist, `apicurio-registry-app-${APICURIO_VERSION}-runner.jar`);
  const pidFile = join(home, 'registry.pid');
  const logFile = join(home, 'logs', 'registry.log');
  const base = `http://127.0.0.1:${STACK_PORTS.registry}`;

  return {
    name: 'schema-registry',
    endpoint: `${base}/apis/ccompat/v7`,
    logFile,
    ports: [STACK_PORTS.registry],
    startTimeoutMs: 90_000,

    async install() {
      if (!existsSync(join(dist, '.complete'))) {
        mkdirSync(dist, { recursive: true });
        await execFileAsync('mvn', ['-q', '-B', 'dependency:copy', `-Dartifact=${ARTIFACT}`, `-DoutputDirectory=${dist}`], {
          maxBuffer: 16 * 1024 * 1024,
        }).catch((err: Error & { stdout?: string }) => {
          throw new StackError(`Maven could not fetch Apicurio Registry ${APICURIO_VERSION}: ${err.stdout ?? err.message}`);
        });
        await execFileAsync('tar', ['-xzf', `apicurio-registry-app-${APICURIO_VERSION}-all.tar.gz`], { cwd: dist });
        if (!existsSync(runner)) throw new StackError(`the Apicurio archive has no ${runner}`);
        writeFileSync(join(dist, '.complete'), APICURIO_VERSION);
      }
      mkdirSync(join(home, 'data'), { recursive: true });
    },

    async isReady() {
      return livePid(pidFile) !== undefined && (await httpOk(`${base}/apis/ccompat/v7/subjects`));
    },

    async start() {
      startDaemon({
        command: 'java',
        args: [
          '-Xmx384m', '-XX:+UseSerialGC',
          `-Dquarkus.http.host=127.0.0.1`,
          `-Dquarkus.http.port=${STACK_PORTS.registry}`,
          '-Dapicurio.storage.sql.kind=h2',
          `-Dapicurio.datasource.url=jdbc:h2:file:${join(home, 'data', 'registry')}`,
          // Let tests and operators delete subjects they created.
          '-Dapicurio.rest.deletion.artifact.enabled=true',
          '-Dapicurio.rest.deletion.artifact-version.enabled=true',
          '-jar', runner,
        ],
        cwd: home,
        logFile,
        pidFile,
      });
    },

    stop: () => stopDaemon(pidFile),
  };
}

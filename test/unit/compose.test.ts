/**
 * docker-compose.yml, the testcontainers of the integration tests and the
 * local stack run one set of services: the same images and versions, the
 * project's own mail catcher, and the local stack's addresses on the host.
 * (No Docker engine is needed: this reads the files.)
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.ts';
import { configuredEndpoints } from '../../src/endpoints.ts';
import { STACK_PORTS } from '../../src/stack/service.ts';
import { KAFKA_VERSION } from '../../src/stack/kafka.ts';
import { APICURIO_VERSION } from '../../src/stack/registry.ts';
import { CONTAINER_IMAGES } from '../integration/containers.ts';

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  ports?: string[];
  environment?: Record<string, string | number>;
}

const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8')) as { services: Record<string, Service> };
const service = (name: string): Service => {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};
/** host port → container port of what a service publishes on 127.0.0.1 */
const published = (name: string) => Object.fromEntries((service(name).ports ?? []).map((p) => {
  const [host, hostPort, containerPort] = p.split(':');
  expect(host).toBe('127.0.0.1');
  return [Number(hostPort), Number(containerPort)];
}));

describe('docker-compose.yml', () => {
  it('runs the images testcontainers runs, at the local stack\'s versions', () => {
    expect(CONTAINER_IMAGES).toEqual({ kafka: `apache/kafka:${KAFKA_VERSION}`, registry: `apicurio/apicurio-registry:${APICURIO_VERSION}`, postgres: 'postgres:15' });
    expect({ kafka: service('kafka').image, registry: service('registry').image, postgres: service('postgres').image }).toEqual(CONTAINER_IMAGES);
  });

  it('runs the project\'s mail catcher from the Tidings image, where the tests and README read mail', () => {
    const mail = service('mail');
    expect(mail.build).toBe('.');
    expect(mail.command).toEqual(['node', '--import', 'tsx', 'src/stack/mail-catcher.ts', String(STACK_PORTS.smtp), String(STACK_PORTS.mailApi), '0.0.0.0']);
    expect(published('mail')).toEqual({ [STACK_PORTS.smtp]: STACK_PORTS.smtp, [STACK_PORTS.mailApi]: STACK_PORTS.mailApi });
    expect(Object.values(compose.services).map((s) => s.image ?? '')).not.toContainEqual(expect.stringMatching(/mailpit|mailhog/i));
  });

  it('publishes Kafka, the registry and Postgres at the local stack\'s ports, Kafka advertising that address', () => {
    expect(Object.keys(published('kafka')).map(Number)).toEqual([STACK_PORTS.kafka]);
    expect(String(service('kafka').environment?.KAFKA_ADVERTISED_LISTENERS)).toContain(`//127.0.0.1:${STACK_PORTS.kafka}`);
    expect(published('registry')).toEqual({ [STACK_PORTS.registry]: 8080 });
    expect(published('postgres')).toEqual({ [STACK_PORTS.postgres]: 5432 });
  });

  it('gives Tidings every service and both secrets, so it runs without the local stack', () => {
    const env = Object.fromEntries(Object.entries(service('tidings').environment ?? {}).map(([k, v]) => [k, String(v)]));
    expect(env.SMTP_URL).toBe(`smtp://mail:${STACK_PORTS.smtp}`);
    // What compose makes of ${VAR:-default} (the default) and of ${VAR:?error} (the value the user must give).
    const substituted = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.replace(/^\$\{[A-Z_]+:-(.*)\}$/, '$1').replace(/^\$\{[A-Z_]+:\?.*\}$/, Buffer.alloc(32, 1).toString('base64'))]));
    expect(configuredEndpoints(loadConfig(substituted))).toBeDefined();
  });
});

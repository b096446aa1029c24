// @ts-check
import tseslint from 'typescript-eslint';

const onlyInKafka = [
  { name: 'kafkajs', message: 'only src/kafka talks to kafkajs' },
  { name: '@kafkajs/confluent-schema-registry', message: 'only src/kafka talks to the registry' },
];
const onlyInDb = [{ name: 'pg', message: 'only src/db talks to pg' }];
const io = ['kafkajs', '@kafkajs/confluent-schema-registry', 'pg', 'ws', 'nodemailer', 'undici', 'pino', 'fastify', 'node:fs', 'node:net', 'node:http', 'node:child_process']
  .map((name) => ({ name, message: 'processor logic is pure; do I/O in its adapter or the runner' }));

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.stack/', '.cache/', 'coverage/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      'no-console': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // kafkajs and the registry client only in src/kafka, pg only in src/db.
    files: ['src/**/*.ts'],
    ignores: ['src/kafka/**', 'src/db/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [...onlyInKafka, ...onlyInDb] }] },
  },
  {
    // The runner runs processors and sinks through src/processor.ts; it knows none of them.
    files: ['src/kafka/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: onlyInDb, patterns: [{ group: ['**/processors/**', '**/db/*'], message: 'src/kafka runs processors through src/processor.ts' }] }] },
  },
  {
    // Processors write to the database; the database knows nothing of Kafka or of them.
    files: ['src/db/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: onlyInKafka, patterns: [{ group: ['**/kafka/*', '**/processors/**'], message: 'src/db is used by processors; it does not use the runner' }] }] },
  },
  {
    // A processor's decide function is pure: no I/O, no clock, no environment.
    // Only its adapter wires it to the runner. Last, so it wins over the rules above.
    files: ['src/processors/**/*.ts'],
    ignores: ['src/processors/**/adapter.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: io,
        // The WebSocket protocol is types and constants: the gateway's frames are built in its decide function.
        patterns: [{ group: ['**/kafka/*', '**/db/*', '**/logger*', '**/websocket/*', '!**/websocket/protocol.ts', '**/api/*'], message: 'processor logic is pure' }],
      }],
      'no-restricted-globals': ['error', { name: 'process', message: 'pass what you need in ctx' }],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'use ctx.now' },
        { object: 'Math', property: 'random', message: 'use ctx.newId' }],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'use ctx.now' }],
    },
  },
  {
    files: ['src/cli/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);

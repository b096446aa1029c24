// @ts-check
import tseslint from 'typescript-eslint';

const ioLibraries = ['kafkajs', '@kafkajs/confluent-schema-registry', 'pg', 'ws', 'nodemailer', 'undici', 'pino', 'fastify', 'node:fs', 'node:net', 'node:http', 'fs', 'net', 'http'];

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
    // A processor's decide function is pure: no I/O, no clock, no environment.
    // Only its adapter (adapter.ts) wires it to the runner.
    files: ['src/processors/**/*.ts'],
    ignores: ['src/processors/**/adapter.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: ioLibraries.map((name) => ({ name, message: 'processor logic must stay pure; do I/O in the adapter or the runner' })),
        patterns: [{ group: ['**/kafka/*', '**/db/*', '**/logger*'], message: 'processor logic must stay pure' }],
      }],
      'no-restricted-globals': ['error', { name: 'process', message: 'pass what you need in ctx' }],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'use ctx.now' }],
    },
  },
  {
    // kafkajs and the registry client are imported only in src/kafka, pg only in src/db.
    files: ['src/**/*.ts'],
    ignores: ['src/kafka/**', 'src/db/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          { name: 'kafkajs', message: 'only src/kafka talks to kafkajs' },
          { name: '@kafkajs/confluent-schema-registry', message: 'only src/kafka talks to the registry' },
          { name: 'pg', message: 'only src/db talks to pg' },
        ],
      }],
    },
  },
  {
    files: ['src/cli/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);

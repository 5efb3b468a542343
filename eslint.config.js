// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeIo = ['node:net', 'net', 'node:fs', 'fs', 'node:fs/promises', 'fs/promises', 'node:child_process', 'child_process', 'node:tls', 'tls', 'node:http', 'http', 'node:dgram', 'dgram'];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**', '**/*.config.ts', '**/*.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // The codec is pure: bytes in, values out. No sockets, files or processes.
    files: ['packages/codec/src/**/*.ts'],
    ignores: ['packages/codec/src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: nodeIo.map((name) => ({ name, message: '@imsplex/codec is pure: no I/O modules.' })) }],
    },
  },
  {
    // Copybook mapping is pure too.
    files: ['packages/copybook/src/**/*.ts'],
    ignores: ['packages/copybook/src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: nodeIo.map((name) => ({ name, message: '@imsplex/copybook is pure: no I/O modules.' })) }],
    },
  },
  {
    // Boxes meet only through wire protocols (ARCHITECTURE.md "Processes and links").
    files: ['packages/ims-connect/src/**/*.ts'],
    ignores: ['packages/ims-connect/src/**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['@imsplex/ims', '@imsplex/ims/*'], message: 'ims-connect reaches IMS over OTMA only.' }] }] },
  },
  {
    files: ['packages/zos-connect/src/**/*.ts'],
    ignores: ['packages/zos-connect/src/**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['@imsplex/ims-connect', '@imsplex/ims-connect/*', '@imsplex/ims', '@imsplex/ims/*'], message: 'zos-connect reaches IMS Connect over the wire only.' }] }] },
  },
  {
    files: ['packages/client/src/**/*.ts'],
    ignores: ['packages/client/src/**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['@imsplex/ims-connect', '@imsplex/ims-connect/*', '@imsplex/ims', '@imsplex/ims/*'], message: 'the client must work against IBM IMS Connect: no emulator imports.' }] }] },
  },
  {
    files: ['**/*.test.ts', '**/test/**/*.ts', '**/bench/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
);

// The house rules, checked: workflow code runs in Temporal's deterministic sandbox, so `workflows/` imports no
// Node built-in, no `pg` and nothing of the framework's outside `workflows/`; no promise floats; no `any`.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const nodeBuiltins = builtinModules.flatMap((name) => [name, `node:${name}`]);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**', 'coverage/**'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended, prettier],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: globals.node,
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      'prefer-const': 'error',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins, 'pg'].map((name) => ({ name, message: 'workflow code runs in the deterministic sandbox' })),
          patterns: [
            {
              group: ['../src/*', '../../src/*', '!../src/contracts', '!../../src/contracts', '../activities', '../activities/*'],
              allowTypeImports: true,
              message: 'workflow code imports only the workflow SDK, workflows/ and src/contracts/ (types from elsewhere are fine)',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'process', 'Buffer', 'setTimeout', 'setInterval', 'require'],
      // Workflow code is read on replay by whoever debugs a stuck run: small functions, one job each.
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'use workflow time (Date inside the sandbox is replay-safe, but say so)' },
        { object: 'Math', property: 'random', message: 'use the SDK: uuid4() or a deterministic value' },
      ],
    },
  },
  {
    // Dependencies point one way: everything imports the wire contracts (src/contracts/), nothing imports the
    // workflow code but the worker, which bundles it by path. Outside the sandbox, functions stay readable too.
    files: ['src/**/*.ts', 'activities/**/*.ts', 'bench/**/*.ts', 'examples/**/*.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/workflows', '**/workflows/*'], message: 'import the wire contracts from src/contracts/' }] },
      ],
    },
  },
  {
    // The product's own code reads like the workflows': small functions, one job each.
    files: ['src/**/*.ts', 'activities/**/*.ts', 'examples/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.js'],
    rules: { 'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }] },
  },
  {
    files: ['src/contracts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins, 'pg'].map((name) => ({ name, message: 'the contracts are loaded in the workflow sandbox too' })),
          patterns: [{ group: ['../*', '!../contracts'], message: 'the contracts are a leaf: they import only each other and the SDK' }],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    extends: [js.configs.recommended, prettier],
    languageOptions: { globals: globals.node, sourceType: 'module' },
  },
  { files: ['bin/**/*.js', 'scripts/**/*.js'], languageOptions: { sourceType: 'commonjs' } },
);

// Lint: typescript-eslint's recommended set over src, bench and test, with the rules below switched off or tuned where
// they fight a deliberate style. Import cycles (files and folders) are checked by scripts/check-cycles.mjs, which
// `npm run lint` runs after eslint; formatting is prettier's (`npm run format:check`), not eslint's.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'build/', 'native/', 'node_modules/', 'assembly/', 'docs/'] },
  {
    files: ['src/**/*.ts', 'bench/**/*.ts', 'test/**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    languageOptions: { parserOptions: { project: './tsconfig.typecheck.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Type-aware, from the recommended-type-checked set: a promise nobody awaits loses its rejection, and an async
      // callback where a sync one is expected (event handlers, forEach) runs unordered.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // Explicit `any` is rare and visible: heterogeneous lists of generic workloads (Workload<any>) and tests patching
      // prototypes or reading JSON fixtures. strict mode already rejects implicit any.
      '@typescript-eslint/no-explicit-any': 'off',
      // Unused locals are dead code; unused parameters are not: backends and callbacks share one signature.
      '@typescript-eslint/no-unused-vars': ['error', { args: 'none' }],
      // A closure may read a variable assigned later (let x; onEvent = () => x; x = new ...), and one destructuring
      // may update a running value next to fresh names ([ck, key] = hkdf(ck, ...)).
      'prefer-const': ['error', { destructuring: 'all', ignoreReadBeforeAssign: true }],
      // Flags this.apply(undefined, ops) on classes whose own method is named apply (not Function.prototype.apply).
      'prefer-spread': 'off',
    },
  },
);

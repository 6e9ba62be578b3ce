// ESLint (flat config) with typescript-eslint's type-aware rules on the product, the lab package and
// the tests. Formatting is Prettier's job (`prettier --check`), not ESLint's.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {ignores: ['dist/', 'packages/*/dist/', 'node_modules/', 'coverage/', '.lab/', 'bench/', 'bin/', 'scripts/', 'eslint.config.js']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: {project: ['./tsconfig.lint.json'], tsconfigRootDir: import.meta.dirname},
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', {considerDefaultExhaustiveForUnions: true}],
      '@typescript-eslint/await-thenable': 'error',
      // A server's handler closes over a `let` that is set once the server listens.
      'prefer-const': ['error', {ignoreReadBeforeAssign: true}],
      // Docker, Vault and Patroni answers are untyped JSON, read as Record<string, any> at the edges
      // and turned into typed views right there (src/swarm/views.ts, src/vault/client.ts).
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none'}],
    },
  },
)

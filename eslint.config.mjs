// Lint rules for the library, its tools and tests: the recommended sets of ESLint and
// typescript-eslint, with formatting left to Prettier (`npm run format`).
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

export default tseslint.config(
  { ignores: ["dist/**", "build/**", "node_modules/**", "docs/**", "notebooks/**", "cn/**", "checkpoints/**", "**/*.min.js"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["src/**/*.ts"],
    rules: {
      // Unused names are mistakes, except a deliberately ignored argument or destructured rest (_x).
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true }],
    },
  },
  {
    // Optional packages (tfjs-node, esbuild, tslab) and Node-only modules load on demand, when
    // the code that needs them runs: a top-level import would make them required everywhere.
    files: ["src/backend.ts", "src/cli/gpu-bundle.ts", "src/viz/tslab-kernel.ts", "src/kernels/host-threads.ts"],
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    files: ["**/*.js", "**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { ...globals.node, ...globals.mocha } },
    rules: {
      // Test helpers may share a name with a mocha global (run, suite) in their own scope.
      "no-redeclare": ["error", { builtinGlobals: false }],
      "@typescript-eslint/no-require-imports": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true }],
    },
  },
  {
    // Functions these tests send into a browser page run there, with the page's globals.
    files: ["test/browser.test.js", "test/browser-core.test.js", "test/jupyterlab-render.test.js", "test/jupyterlab/*.js"],
    languageOptions: { globals: { ...globals.browser, Jupyter: "readonly" } },
  },
  {
    files: ["**/*.mjs"],
    languageOptions: { sourceType: "module", globals: { ...globals.node } },
  },
);

/** Dynamic `import()` that TypeScript's CommonJS output keeps as a real import (for ESM-only packages such as webgpu). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a module loaded by name has whatever shape it has
export const importEsm = new Function("specifier", "return import(specifier)") as (s: string) => Promise<any>;

/** Dynamic `import()` that TypeScript's CommonJS output keeps as a real import (for ESM-only packages such as webgpu). */
export const importEsm = new Function("specifier", "return import(specifier)") as (s: string) => Promise<any>;

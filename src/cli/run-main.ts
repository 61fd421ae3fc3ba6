/**
 * How a command-line tool ends: with the status its main returns, or, when main throws, with the
 * error on stderr as `<tool>: <message>` and the status `statusOf(error)` (1 unless the tool says).
 */
export function runMain(tool: string, main: () => Promise<number>, statusOf: (e: unknown) => number = () => 1): void {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      const msg = e instanceof Error ? e.message : String(e);
      console.error(msg.startsWith(`${tool}:`) ? msg : `${tool}: ${msg}`);
      process.exit(statusOf(e));
    },
  );
}

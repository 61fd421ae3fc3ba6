/**
 * Finding the display of the tslab kernel that runs this process.
 *
 * tslab's `display` writes through a function that its own `jupyter` module holds, and only the
 * copy of tslab that serves the kernel ever sets it: every other copy says "Not ready". A library
 * in node_modules cannot simply `require("tslab")`, because that finds the library's own copy, or
 * none. Nor does `require.main` help: a kernel started from one install (a global `tslab`, or a
 * kernelspec registered from another checkout) hands over to the tslab it finds in
 * node_modules above the notebook's folder, so `require.main` is often not the copy that runs.
 *
 * So, in order:
 *   1. the kernel's own hook: tslab's executor sets `globalThis.__tslab__.require` for notebook
 *      code, and that `require("tslab")` returns the running copy (tslab 1.0.x);
 *   2. any copy of tslab already loaded in this process whose jupyter module serves cells;
 *   3. plain `require("tslab")`, which outside a kernel still says "Not ready" (explained by the
 *      caller).
 */
import * as path from "node:path";
import { queueKernelSends } from "./kernel-send-queue";

/** The part of tslab's public module that figures use. */
export interface TslabModule {
  display: { html(s: string): void };
  newDisplay(): { html(s: string): void };
}

function isTslabModule(mod: unknown): mod is TslabModule {
  if (typeof mod !== "object" || mod === null) return false;
  const { display, newDisplay } = mod as { display?: unknown; newDisplay?: unknown };
  if (typeof display !== "object" || display === null) return false;
  const html = (display as { html?: unknown }).html;
  return typeof html === "function" && typeof newDisplay === "function";
}

/** `globalThis.__tslab__.require("tslab")`: what notebook code gets when it imports "tslab". */
function fromKernelHook(): unknown {
  const hook = (globalThis as { __tslab__?: unknown }).__tslab__;
  if (typeof hook !== "object" || hook === null) return undefined;
  const kernelRequire = (hook as { require?: unknown }).require;
  if (typeof kernelRequire !== "function") return undefined;
  return (kernelRequire as (id: string) => unknown)("tslab");
}

/** The public module of a loaded tslab whose jupyter module has started serving cells. */
function fromServingCopy(): unknown {
  const jupyterFile = /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/;
  for (const [file, entry] of Object.entries(require.cache)) {
    if (!jupyterFile.test(file)) continue;
    const jupyter = entry?.exports as { lastWriteDisplayData?: unknown } | undefined;
    // Set by the first executed cell and never cleared; only the serving copy has it.
    if (typeof jupyter?.lastWriteDisplayData !== "function") continue;
    return require(path.join(path.dirname(file), "public.js"));
  }
  return undefined;
}

// Loaded inside a kernel (the usual way: a notebook imports the library), queue its sends now.
queueKernelSends();

/** The running kernel's tslab module, else this library's own copy, else undefined (no tslab). */
export function findTslab(): TslabModule | undefined {
  const places = [fromKernelHook, fromServingCopy, () => require("tslab") as unknown];
  for (const place of places) {
    try {
      const mod = place();
      if (isTslabModule(mod)) {
        queueKernelSends(); // long runs with many outputs must not crash the kernel
        return mod;
      }
    } catch {
      // nothing usable there: try the next place
    }
  }
  return undefined;
}

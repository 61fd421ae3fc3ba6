/**
 * Writing so that a reader, or a crash, never sees half of it: the bytes go to a temporary file
 * beside the target, are flushed to disk, and one rename puts them in place. On failure the
 * temporary file is removed and the old file, if any, is left as it was. The one place in the
 * library that does this; a folder (several files that belong together) goes in the same way.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";

/**
 * A hidden temporary name beside `target`, unique to this process and call (two writes of one
 * target at once, even from one process, never share it). Ends in `.tmp`.
 */
function temporaryBeside(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`);
}

/** Writes `data` to `file` atomically, creating the parent folders. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = temporaryBeside(file);
  try {
    const fd = fs.openSync(tmp, "wx");
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** writeFileAtomic without blocking the event loop while the bytes are written and flushed. */
export async function writeFileAtomicAsync(file: string, data: string | Uint8Array): Promise<void> {
  await fsp.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = temporaryBeside(file);
  try {
    const fh = await fsp.open(tmp, "wx");
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

/** `value` as indented JSON, written atomically. */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + "\n");
}

/** Flushes every plain file under `dir` to disk. */
function syncFilesUnder(dir: string): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) syncFilesUnder(p);
    else if (e.isFile()) {
      const fd = fs.openSync(p, "r+");
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
  }
}

/**
 * Creates the folder `dir` whole or not at all: `fill(tmp)` writes its contents into a temporary
 * folder beside it, whose files are flushed to disk and which one rename then turns into `dir`.
 * `dir` must not exist yet (a folder cannot be replaced in one step). On failure, of `fill` or
 * after it, the temporary folder is removed and `dir` is not created.
 */
export function writeFolderAtomic(dir: string, fill: (tmp: string) => void): void {
  if (fs.existsSync(dir)) throw new Error(`writeFolderAtomic: ${dir} exists already; expected a folder that does not exist yet`);
  fs.mkdirSync(path.dirname(path.resolve(dir)), { recursive: true });
  const tmp = temporaryBeside(dir);
  try {
    fs.mkdirSync(tmp);
    fill(tmp);
    syncFilesUnder(tmp);
    fs.renameSync(tmp, dir);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Whether Dawn could find a Vulkan driver on Linux, decided from files alone: the Vulkan loader
 * (libvulkan.so.1) and at least one driver manifest (an ICD JSON file) where the loader looks.
 * Loading Dawn to find out prints native warnings to stderr that JavaScript cannot silence, so
 * `chooseBackend` asks here first and skips WebGPU quietly when the answer is no.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const LOADER = "libvulkan.so.1";

/** Where to look; every field has the system's default, tests pass temporary folders. */
export interface VulkanSearch {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  home: string;
  /** Library folders searched after LD_LIBRARY_PATH. */
  libraryDirs: string[];
  /** The dynamic linker's cache, searched for the loader's name. */
  ldCache: string;
  /** Configuration folders besides XDG_CONFIG_DIRS (the loader's build-time sysconfdirs). */
  sysconfDirs: string[];
}

/** Debian's multiarch folder names, by Node's process.arch. */
const MULTIARCH: Record<string, string> = {
  x64: "x86_64-linux-gnu",
  arm64: "aarch64-linux-gnu",
  ia32: "i386-linux-gnu",
};

function defaultSearch(): VulkanSearch {
  const triple = MULTIARCH[process.arch];
  const roots = ["/lib", "/usr/lib", "/usr/local/lib"];
  return {
    platform: process.platform,
    env: process.env,
    home: os.homedir(),
    libraryDirs: [...(triple ? roots.map((r) => path.join(r, triple)) : []), ...roots, "/lib64", "/usr/lib64"],
    ldCache: "/etc/ld.so.cache",
    sysconfDirs: ["/usr/local/etc", "/etc"],
  };
}

const splitList = (value: string | undefined): string[] => (value ?? "").split(":").filter(Boolean);

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Whether `entry` is a manifest file, or a folder holding one (the loader accepts both). */
function holdsManifest(entry: string): boolean {
  try {
    const stat = fs.statSync(entry);
    if (stat.isFile()) return entry.endsWith(".json");
    if (!stat.isDirectory()) return false;
    return fs.readdirSync(entry).some((f) => f.endsWith(".json") && isFile(path.join(entry, f)));
  } catch {
    return false;
  }
}

function hasLibrary(s: VulkanSearch, name: string): boolean {
  const dirs = [...splitList(s.env.LD_LIBRARY_PATH), ...s.libraryDirs];
  if (dirs.some((d) => fs.existsSync(path.join(d, name)))) return true;
  try {
    // The cache is binary, but it stores each library's name as plain text.
    return fs.readFileSync(s.ldCache).includes(name);
  } catch {
    return false;
  }
}

/** Whether the dynamic linker would find the shared library `name` (LD_LIBRARY_PATH, usual folders, cache). */
export function sharedLibraryExists(name: string, search: Partial<VulkanSearch> = {}): boolean {
  return hasLibrary({ ...defaultSearch(), ...search }, name);
}

/** A colon-separated list from the environment, or `fallback` when it is unset or empty. */
const listOr = (value: string | undefined, fallback: string[]) => (splitList(value).length ? splitList(value) : fallback);

/** The folders whose vulkan/icd.d the loader searches when no override is set. */
function defaultManifestRoots(s: VulkanSearch): string[] {
  const { env, home } = s;
  return [
    env.XDG_CONFIG_HOME || path.join(home, ".config"),
    ...listOr(env.XDG_CONFIG_DIRS, ["/etc/xdg"]),
    ...s.sysconfDirs,
    env.XDG_DATA_HOME || path.join(home, ".local", "share"),
    ...listOr(env.XDG_DATA_DIRS, ["/usr/local/share", "/usr/share"]),
  ];
}

/** The vulkan/icd.d folders the loader searches for driver manifests when no override is set. */
export function vulkanManifestFolders(search: Partial<VulkanSearch> = {}): string[] {
  const s = { ...defaultSearch(), ...search };
  return defaultManifestRoots(s).map((r) => path.join(r, "vulkan", "icd.d"));
}

/** A path under the home folder written as ~/…, to keep the message short. */
const tilde = (p: string, home: string) => (home && p.startsWith(home + path.sep) ? `~${p.slice(home.length)}` : p);

/**
 * Why Dawn would find no Vulkan driver here, or null when a loader and a driver manifest exist
 * (or on another OS, where Dawn uses Metal or D3D12). Follows the loader's own rules:
 * VK_DRIVER_FILES (or the older VK_ICD_FILENAMES) replaces the search, VK_ADD_DRIVER_FILES adds
 * to it. A manifest that exists may still name a driver that finds no device: that case is left
 * to Dawn.
 */
export function vulkanDriverProblem(search: Partial<VulkanSearch> = {}): string | null {
  const s = { ...defaultSearch(), ...search };
  if (s.platform !== "linux") return null;
  if (!hasLibrary(s, LOADER)) {
    return `no Vulkan loader (${LOADER} is not in LD_LIBRARY_PATH, the ld.so cache or the usual` + " library folders)";
  }
  const override = s.env.VK_DRIVER_FILES ? "VK_DRIVER_FILES" : s.env.VK_ICD_FILENAMES ? "VK_ICD_FILENAMES" : null;
  if (override) {
    if (splitList(s.env[override]).some(holdsManifest)) return null;
    return `no Vulkan driver (no ICD file in ${override}=${s.env[override]})`;
  }
  const added = splitList(s.env.VK_ADD_DRIVER_FILES);
  const roots = defaultManifestRoots(s);
  const inRoots = roots.some((r) => holdsManifest(path.join(r, "vulkan", "icd.d")));
  if (inRoots || added.some(holdsManifest)) return null;
  const where = roots.map((r) => tilde(r, s.home)).join(", ");
  const orAdded = added.length ? " or VK_ADD_DRIVER_FILES" : "";
  return `no Vulkan driver (no ICD file in vulkan/icd.d under ${where}${orAdded})`;
}

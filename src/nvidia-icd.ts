/**
 * The NVIDIA driver's Vulkan manifest (nvidia_icd.json): found where the Vulkan loader and the
 * driver's installers put it, so that a run on a GPU machine can name that driver alone
 * (VK_DRIVER_FILES) instead of letting the loader also offer a software driver such as Mesa's
 * lavapipe. Where the driver's library is installed but its manifest is not (containers started
 * without the "graphics" capability), `nvidiaManifestText` writes the manifest the driver ships.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { VulkanSearch, sharedLibraryExists, vulkanManifestFolders } from "./vulkan-driver";

/** Folders where driver packages and the NVIDIA installer put manifests, whatever XDG_* say. */
export const USUAL_ICD_FOLDERS: readonly string[] = [
  "/usr/share/vulkan/icd.d",
  "/etc/vulkan/icd.d",
  "/usr/local/share/vulkan/icd.d",
  "/usr/local/etc/vulkan/icd.d",
  "/etc/xdg/vulkan/icd.d",
];

/** The driver libraries an NVIDIA manifest names: GLX on most installs, EGL on some. */
export const NVIDIA_VULKAN_LIBRARIES: readonly string[] = ["libGLX_nvidia.so.0", "libEGL_nvidia.so.0"];

export interface NvidiaManifestSearch {
  /** Where the loader looks (see vulkan-driver.ts); tests pass temporary folders. */
  search?: Partial<VulkanSearch>;
  /** Folders searched after the loader's own; default USUAL_ICD_FOLDERS. */
  extraFolders?: readonly string[];
}

/** A manifest named nvidia*.json, or one whose ICD.library_path names an NVIDIA library. */
function isNvidiaManifest(file: string): boolean {
  if (/^nvidia.*\.json$/i.test(path.basename(file))) return true;
  try {
    const library = JSON.parse(fs.readFileSync(file, "utf8"))?.ICD?.library_path;
    return typeof library === "string" && /nvidia/i.test(path.basename(library));
  } catch {
    return false;
  }
}

function jsonFilesIn(folder: string): string[] {
  try {
    return fs
      .readdirSync(folder)
      .filter((f) => f.endsWith(".json"))
      .sort()
      .map((f) => path.join(folder, f))
      .filter((f) => fs.statSync(f).isFile());
  } catch {
    return [];
  }
}

/**
 * The first NVIDIA manifest in the loader's folders (then VK_ADD_DRIVER_FILES, then the usual
 * folders), and every folder that was searched, in order.
 */
export function findNvidiaManifest(opts: NvidiaManifestSearch = {}): { file: string | null; searched: string[] } {
  const env = opts.search?.env ?? process.env;
  const added = (env.VK_ADD_DRIVER_FILES ?? "").split(":").filter(Boolean);
  const searched = [...new Set([...vulkanManifestFolders(opts.search), ...added, ...(opts.extraFolders ?? USUAL_ICD_FOLDERS)])];
  for (const entry of searched) {
    const files = entry.endsWith(".json") ? [entry] : jsonFilesIn(entry);
    const file = files.find((f) => fs.existsSync(f) && isNvidiaManifest(f));
    if (file) return { file, searched };
  }
  return { file: null, searched };
}

/** The installed NVIDIA Vulkan driver library (by the dynamic linker's rules), or null. */
export function nvidiaVulkanLibrary(search: Partial<VulkanSearch> = {}): string | null {
  return NVIDIA_VULKAN_LIBRARIES.find((name) => sharedLibraryExists(name, search)) ?? null;
}

/** A manifest for the NVIDIA library `library`, the same as the driver's own nvidia_icd.json. */
export function nvidiaManifestText(library: string): string {
  if (!NVIDIA_VULKAN_LIBRARIES.includes(library)) {
    throw new Error(`nvidiaManifestText: library must be one of ${NVIDIA_VULKAN_LIBRARIES.join(", ")}, got ${JSON.stringify(library)}`);
  }
  // 1.3 is what current drivers declare; the loader asks the driver for its own version anyway.
  return JSON.stringify({ file_format_version: "1.0.1", ICD: { library_path: library, api_version: "1.3.0" } }, null, 2) + "\n";
}

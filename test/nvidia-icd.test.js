// Finding the NVIDIA driver's Vulkan manifest (what the GPU bundle points the loader at), in
// temporary folder trees laid out like a machine's.
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { findNvidiaManifest, nvidiaVulkanLibrary, nvidiaManifestText } = require("../dist/nvidia-icd");

describe("NVIDIA Vulkan driver manifest", function () {
  let dir;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "s4-nvidia-icd-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A machine whose XDG folders are under dir, with no other folders searched. */
  const machine = (env = {}) => ({
    search: {
      platform: /** @type {const} */ ("linux"),
      home: path.join(dir, "home"),
      env: { XDG_DATA_DIRS: path.join(dir, "share"), XDG_CONFIG_DIRS: path.join(dir, "xdg"), ...env },
      sysconfDirs: [path.join(dir, "etc")],
      libraryDirs: [path.join(dir, "lib")],
      ldCache: path.join(dir, "ld.so.cache"),
    },
    extraFolders: [path.join(dir, "opt", "icd.d")],
  });
  const manifest = (folder, name, library) => {
    fs.mkdirSync(folder, { recursive: true });
    const file = path.join(folder, name);
    fs.writeFileSync(file, JSON.stringify({ file_format_version: "1.0.0", ICD: { library_path: library, api_version: "1.3.0" } }));
    return file;
  };

  it("finds nvidia_icd.json beside other drivers' manifests, in the loader's folders or the usual ones", () => {
    manifest(path.join(dir, "share", "vulkan", "icd.d"), "lvp_icd.json", "/usr/lib/libvulkan_lvp.so");
    assert.equal(findNvidiaManifest(machine()).file, null);
    const usual = manifest(path.join(dir, "opt", "icd.d"), "nvidia_icd.json", "libGLX_nvidia.so.0");
    assert.equal(findNvidiaManifest(machine()).file, usual);
    // the loader's own folders come first
    const etc = manifest(path.join(dir, "etc", "vulkan", "icd.d"), "nvidia_icd.json", "libGLX_nvidia.so.0");
    assert.equal(findNvidiaManifest(machine()).file, etc);
  });

  it("knows a manifest by the NVIDIA library it names, and takes VK_ADD_DRIVER_FILES", () => {
    const renamed = manifest(path.join(dir, "extra"), "10_vendor.json", "/usr/lib/x86_64-linux-gnu/libEGL_nvidia.so.0");
    assert.equal(findNvidiaManifest(machine()).file, null);
    assert.equal(findNvidiaManifest(machine({ VK_ADD_DRIVER_FILES: path.join(dir, "extra") })).file, renamed);
    assert.equal(findNvidiaManifest(machine({ VK_ADD_DRIVER_FILES: renamed })).file, renamed);
  });

  it("says which folders it searched when it finds nothing", () => {
    const { file, searched } = findNvidiaManifest(machine());
    assert.equal(file, null);
    assert.ok(searched.includes(path.join(dir, "share", "vulkan", "icd.d")), searched.join(", "));
    assert.ok(searched.includes(path.join(dir, "opt", "icd.d")), searched.join(", "));
  });

  it("finds the driver library without a manifest and writes the manifest it ships", () => {
    const { search } = machine();
    assert.equal(nvidiaVulkanLibrary(search), null);
    fs.mkdirSync(path.join(dir, "lib"));
    fs.writeFileSync(path.join(dir, "lib", "libGLX_nvidia.so.0"), "");
    assert.equal(nvidiaVulkanLibrary(search), "libGLX_nvidia.so.0");
    assert.deepEqual(JSON.parse(nvidiaManifestText("libGLX_nvidia.so.0")).ICD.library_path, "libGLX_nvidia.so.0");
    assert.throws(() => nvidiaManifestText("libvulkan_lvp.so"), /library must be one of libGLX_nvidia\.so\.0, libEGL_nvidia\.so\.0/);
  });
});

/**
 * Counting what a piece of work asks of the active backend: the tfjs kernels it runs, the GPU
 * programs it dispatches, the bytes it moves from the host to the device and back, and how often
 * the host waits for the device. The counts come from wrapping the methods of the backend
 * instance (and of the engine) for the duration of one call, and restoring them afterwards; they
 * do not depend on timing, so the same work gives the same counts every time.
 *
 * What each count means on each backend:
 * - programs: webgpu's `recordAndSubmit`, called once per compute dispatch; null on cpu and wasm.
 * - uploads: webgpu: `uploadToGPU` of a tensor whose values are still on the host (bytes: the
 *   GPU buffer, 4 per element). cpu and wasm: tensors made from host arrays (`engine.makeTensor`,
 *   behind tf.tensor, tf.scalar, …) outside a kernel; a kernel's own outputs are not uploads.
 * - uniforms: webgpu's shape uniforms, one small `queue.writeBuffer` per dispatch (makeUniforms);
 *   null on cpu and wasm.
 * - readbacks: buffers copied from the device to the host (webgpu: `getBufferData`, or a
 *   `readSync` that maps a buffer); cpu and wasm: `read`/`readSync` of backend memory by code
 *   outside a kernel (kernels of those backends read their inputs in place).
 * - syncs: reads of device data by host code, each a wait for the device (webgpu: a top-level
 *   `read`/`readSync` of a tensor with no host copy; cpu and wasm: every counted read).
 */
import * as tf from "@tensorflow/tfjs";

/** What one piece of work moved between the host and the device. */
export interface DeviceTraffic {
  /** GPU compute dispatches (webgpu), null on host backends. */
  programs: number | null;
  uploads: number;
  upload_bytes: number;
  /** Upload size in bytes → number of uploads of that size. */
  upload_sizes: Record<string, number>;
  /** Shape-uniform writes and their bytes (webgpu), null on host backends. */
  uniform_writes: number | null;
  uniform_bytes: number | null;
  readbacks: number;
  readback_bytes: number;
  syncs: number;
}

/** The tfjs kernels one piece of work ran, as `tf.profile` lists them. */
export interface KernelCounts {
  kernels: number;
  /** Kernel name → invocations, every name. */
  by_name: Record<string, number>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- wraps backend methods of every signature
type AnyFn = (...args: any[]) => any;
type Patchable = Record<string, unknown>;

/** Replaces obj[name] by wrap(original) on the instance; returns the function that undoes it. */
function patch(obj: Patchable, name: string, wrap: (original: AnyFn) => AnyFn): () => void {
  const original = obj[name];
  if (typeof original !== "function") throw new Error(`step counters: the ${tf.getBackend()} backend has no method ${name} to count`);
  const own = Object.getOwnPropertyDescriptor(obj, name);
  obj[name] = wrap(original as AnyFn);
  return () => {
    if (own) Object.defineProperty(obj, name, own);
    else delete obj[name];
  };
}

/** Internal state of the webgpu backend that the counters look at. */
interface WebGPUTensorData {
  values: unknown;
  resource: unknown;
  dtype: tf.DataType;
  shape: number[];
}

const kernelDepth = () => (tf.engine().state as unknown as { kernelDepth: number }).kernelDepth;

let active = false;

/** A counter installed on the active backend; `snapshot()` reads the counts so far. */
export class DeviceTrafficCounter {
  private readonly counts: DeviceTraffic;
  private readonly restores: (() => void)[] = [];
  private stopped = false;

  private constructor(readonly backendName: string) {
    const gpu = backendName === "webgpu";
    this.counts = {
      programs: gpu ? 0 : null,
      uploads: 0,
      upload_bytes: 0,
      upload_sizes: {},
      uniform_writes: gpu ? 0 : null,
      uniform_bytes: gpu ? 0 : null,
      readbacks: 0,
      readback_bytes: 0,
      syncs: 0,
    };
  }

  /** Starts counting on the active backend; only one counter may run at a time. */
  static start(): DeviceTrafficCounter {
    if (active) throw new Error("DeviceTrafficCounter.start: a counter is already running; stop it first");
    const name = tf.getBackend();
    if (!["webgpu", "cpu", "wasm"].includes(name))
      throw new Error(`DeviceTrafficCounter.start: the active backend must be webgpu, cpu or wasm, got ${name}`);
    const c = new DeviceTrafficCounter(name);
    try {
      if (name === "webgpu") c.installWebGPU(tf.engine().backend as unknown as Patchable);
      else c.installHost(tf.engine().backend as unknown as Patchable);
    } catch (e) {
      c.uninstall();
      throw e;
    }
    active = true;
    return c;
  }

  /** A copy of the counts so far. */
  snapshot(): DeviceTraffic {
    return { ...this.counts, upload_sizes: { ...this.counts.upload_sizes } };
  }

  /** Restores the backend's methods and returns the final counts (again, once stopped). */
  stop(): DeviceTraffic {
    if (!this.stopped) {
      this.uninstall();
      this.stopped = true;
      active = false;
    }
    return this.snapshot();
  }

  private uninstall(): void {
    while (this.restores.length) this.restores.pop()!();
  }

  private upload(bytes: number): void {
    this.counts.uploads++;
    this.counts.upload_bytes += bytes;
    this.counts.upload_sizes[bytes] = (this.counts.upload_sizes[bytes] ?? 0) + 1;
  }

  private readback(bytes: number): void {
    this.counts.readbacks++;
    this.counts.readback_bytes += bytes;
  }

  private installWebGPU(backend: Patchable): void {
    const c = this.counts;
    const tensorMap = backend.tensorMap as Map<object, WebGPUTensorData>;
    // Every dispatch records its uniforms and is counted once.
    this.restores.push(
      patch(
        backend,
        "recordAndSubmit",
        (orig) =>
          function (this: unknown, ...args: unknown[]) {
            c.programs!++;
            return orig.apply(this, args);
          },
      ),
    );
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the wrappers below have their own `this` (the backend)
    const self = this;
    this.restores.push(
      patch(
        backend,
        "uploadToGPU",
        (orig) =>
          function (this: unknown, dataId: object) {
            const d = tensorMap.get(dataId);
            // Only tensors whose values wait on the host are copied; outputs only get a buffer.
            if (d && d.resource == null && d.values != null)
              self.upload(4 * tf.util.sizeFromShape(d.shape) * (d.dtype === "complex64" ? 2 : 1));
            return orig.call(this, dataId);
          },
      ),
    );
    this.restores.push(
      patch(
        backend,
        "makeUniforms",
        (orig) =>
          function (this: unknown, ...args: unknown[]) {
            const u = orig.apply(this, args) as { size: number };
            c.uniform_writes!++;
            c.uniform_bytes! += u.size;
            return u;
          },
      ),
    );
    this.restores.push(
      patch(
        backend,
        "getBufferData",
        (orig) =>
          function (this: unknown, buffer: { size: number }) {
            self.readback(buffer.size);
            return orig.call(this, buffer);
          },
      ),
    );
    // A top-level read of a tensor without a host copy makes the host wait for the device.
    this.patchReads(backend, (method, dataId, outermost) => {
      const d = tensorMap.get(dataId);
      if (!d || d.values != null || d.dtype === "string") return;
      if (outermost) c.syncs++;
      // readSync maps the buffer itself (through a canvas) instead of getBufferData.
      if (method === "readSync" && d.dtype !== "complex64" && d.resource != null) this.readback(4 * tf.util.sizeFromShape(d.shape));
    });
  }

  private installHost(backend: Patchable): void {
    const engine = tf.engine() as unknown as Patchable;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the wrappers below have their own `this` (the backend)
    const self = this;
    this.restores.push(
      patch(
        engine,
        "makeTensor",
        (orig) =>
          function (this: unknown, values: unknown, shape: number[], dtype?: tf.DataType, ...rest: unknown[]) {
            const dt = dtype ?? "float32";
            if (kernelDepth() === 0 && values != null && dt !== "string")
              self.upload(tf.util.sizeFromShape(shape) * tf.util.bytesPerElement(dt));
            return orig.call(this, values, shape, dtype, ...rest);
          },
      ),
    );
    // cpu's and wasm's read calls readSync: count the outermost call only.
    const tensorInfo = (tf.engine().state as unknown as { tensorInfo: WeakMap<object, { bytes: number }> }).tensorInfo;
    this.patchReads(backend, (_method, dataId, outermost) => {
      if (outermost && kernelDepth() === 0) {
        this.readback(tensorInfo.get(dataId)?.bytes ?? 0);
        this.counts.syncs++;
      }
    });
  }

  /**
   * Wraps the backend's `read` and `readSync` so that `before` sees each call first, told whether it
   * is the outermost one: a read may call the other inside it, and one read of host code counts once.
   */
  private patchReads(backend: Patchable, before: (method: string, dataId: object, outermost: boolean) => void): void {
    let depth = 0;
    for (const method of ["read", "readSync"]) {
      this.restores.push(
        patch(
          backend,
          method,
          (orig) =>
            function (this: unknown, dataId: object, ...rest: unknown[]) {
              before(method, dataId, depth === 0);
              depth++;
              try {
                return orig.call(this, dataId, ...rest);
              } finally {
                depth--;
              }
            },
        ),
      );
    }
  }
}

/**
 * Runs `f` with a DeviceTrafficCounter on the active backend and returns its result and the
 * counts of everything that happened until it settled (`f` may take snapshots on the way).
 */
export async function countDeviceTraffic<T>(
  f: (counter: DeviceTrafficCounter) => Promise<T> | T,
): Promise<{ result: T; traffic: DeviceTraffic }> {
  const counter = DeviceTrafficCounter.start();
  try {
    const result = await f(counter);
    return { result, traffic: counter.stop() };
  } finally {
    counter.stop();
  }
}

/**
 * Runs `f` under `tf.profile` and returns its result and the kernels it ran. `kernelsSoFar`,
 * given to `f`, counts the kernels up to the moment it is called. Profiling reads no tensors here
 * (CHECK_COMPUTATION_FOR_ERRORS is off while it runs), but it does change how a GPU backend
 * batches its work, so time and count device traffic in runs of their own.
 */
export async function countKernels<T>(
  f: (kernelsSoFar: () => number) => Promise<T> | T,
): Promise<{ result: T; counts: KernelCounts; ms_by_name: Record<string, number> }> {
  const flag = "CHECK_COMPUTATION_FOR_ERRORS";
  const env = tf.env();
  const checked = env.getBool(flag);
  const state = tf.engine().state;
  let result: T | undefined;
  env.set(flag, false);
  try {
    const profile = await tf.profile(async () => {
      result = await f(() => state.activeProfile.kernels.length);
    });
    const byName: Record<string, number> = {},
      msByName: Record<string, number> = {};
    for (const k of profile.kernels) {
      byName[k.name] = (byName[k.name] ?? 0) + 1;
      // the time the backend reports for the kernel (wall time of the call on cpu and wasm; GPU
      // timer queries on webgpu where available); not part of the deterministic counts
      const ms = typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
      msByName[k.name] = (msByName[k.name] ?? 0) + ms;
    }
    return { result: result as T, counts: { kernels: profile.kernels.length, by_name: byName }, ms_by_name: msByName };
  } finally {
    env.set(flag, checked);
  }
}

/** The `top` most frequent entries of a name → count table, most frequent first (ties by name). */
export function topCounts(byName: Record<string, number>, top: number): { name: string; count: number }[] {
  return Object.entries(byName)
    .map(([name, count]) => ({ name, count }))
    .sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, top);
}

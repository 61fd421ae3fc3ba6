/**
 * One message at a time on the kernel's sockets.
 *
 * zeromq 6 (under tslab 1.0.x) sends the first 512 messages of a burst at once, then defers one
 * send to the next event-loop turn so that the loop is not starved; a second send on the same
 * socket during that turn throws "Socket is busy writing". tslab sends without waiting, so a
 * notebook that writes many outputs (a live chart redrawn on every step of a long training run)
 * sooner or later has two sends meet there, and the kernel dies between cells.
 *
 * The fix queues sends per socket: a send while an earlier one is still in flight waits for it.
 * It wraps `send` on the socket prototype of every zeromq copy loaded in this process (the one
 * the kernel uses among them), once; sends stay in order.
 */
const QUEUED = Symbol.for("s4-mamba-in-depth.queued-send");

type Send = (this: object, ...args: unknown[]) => unknown;

/** Wraps `send` so that each socket has at most one send in flight; idempotent. */
export function queueSends(proto: { send?: unknown }): boolean {
  const original = proto.send as (Send & { [QUEUED]?: true }) | undefined;
  if (typeof original !== "function" || original[QUEUED]) return false;
  const inFlight = new WeakMap<object, Promise<unknown>>();
  const queued: Send & { [QUEUED]?: true } = function (this: object, ...args: unknown[]) {
    const before = inFlight.get(this);
    const result = before ? before.then(() => original.apply(this, args)) : Promise.resolve(original.apply(this, args));
    const settled: Promise<unknown> = result.then(
      () => undefined,
      () => undefined,
    );
    inFlight.set(this, settled);
    void settled.then(() => {
      if (inFlight.get(this) === settled) inFlight.delete(this);
    });
    return result;
  };
  queued[QUEUED] = true;
  // The native prototype's `send` is read-only: define it rather than assign it.
  Object.defineProperty(proto, "send", { value: queued, writable: true, configurable: true, enumerable: false });
  return true;
}

/** Queues the sends of every loaded zeromq copy; returns how many prototypes it wrapped now. */
export function queueKernelSends(): number {
  let wrapped = 0;
  for (const [file, entry] of Object.entries(require.cache)) {
    if (!/[\\/]zeromq[\\/]lib[\\/]index\.js$/.test(file)) continue;
    const exported = Object.values((entry?.exports ?? {}) as Record<string, unknown>);
    const base = (entry?.exports as { Socket?: { prototype?: object } } | undefined)?.Socket?.prototype;
    if (!base) continue;
    try {
      if (queueSends(base)) wrapped++;
    } catch {
      // A base that cannot be redefined: queue each socket class (Publisher, Router, ...) instead.
      for (const cls of exported) {
        const proto = typeof cls === "function" ? (cls as { prototype?: object }).prototype : undefined;
        if (proto && proto !== base && Object.prototype.isPrototypeOf.call(base, proto) && queueSends(proto)) wrapped++;
      }
    }
  }
  return wrapped;
}

/**
 * The library's one seeded generator, mulberry32 (a small 32-bit generator, uniform in [0, 1)):
 * initial parameters, batch orders, sampling and benchmark inputs all draw from it, so a seed
 * gives the same numbers everywhere.
 */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

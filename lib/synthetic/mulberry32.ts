// mulberry32: a small, fast generator seeded with 32 bits, for data that must repeat from its seed
// (benchmark inputs, test weights, fuzz mutations, fault plans). Not for anything secret.

/** 32-bit unsigned values from `seed`. */
export function mulberry32U32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Uniform values in [0, 1) from `seed`: the 32-bit values over 2^32. */
export function mulberry32(seed: number): () => number {
  const next = mulberry32U32(seed);
  return () => next() / 4294967296;
}

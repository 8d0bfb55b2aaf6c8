// inspect --json prints FLOAT32 metadata as the shortest decimal that reads back as the same float32.
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { float32ToShortest } from '../../lib/gguf/ggufJson.js';

/** Digits of a decimal's significand (1.25e-7 → 3). */
const digits = (x: number) => x.toExponential().split('e')[0]!.replace(/[-.]/g, '').length;

describe('float32ToShortest', () => {
  test('powers of two, where the rounding interval is lopsided', () => {
    expect(float32ToShortest(2 ** -96)).toBe(1.2621775e-29); // nearest 8 digits (…774) misses the float
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    for (let e = 1; e < 255; e++) {
      u[0] = e << 23;
      expect(Math.fround(float32ToShortest(f[0]!) as number)).toBe(f[0]);
    }
  });

  test('common values and specials', () => {
    expect(float32ToShortest(Math.fround(0.1))).toBe(0.1);
    expect(float32ToShortest(Math.fround(1e-5))).toBe(1e-5);
    expect(float32ToShortest(-0)).toBe(-0);
    expect(float32ToShortest(NaN)).toBe('NaN');
    expect(float32ToShortest(-Infinity)).toBe('-Infinity');
  });

  test('round-trips every float32 and no shorter decimal does', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (v) => {
        const s = float32ToShortest(v) as number;
        expect(Object.is(Math.fround(s), v) || (s === 0 && v === 0)).toBe(true);
        if (s !== 0) {
          const shorter = Number(s.toPrecision(Math.max(1, digits(s) - 1)));
          if (digits(s) > 1) expect(Math.fround(shorter) === v).toBe(false);
        }
      }),
      { numRuns: 3000, seed: 7 },
    );
  });
});

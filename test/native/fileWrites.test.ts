// Output file writes: the native sync_file_range call and the pacer that hands a growing file to
// it, and positional writes in pieces (writeAt / writeAllAt).
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNative } from '../../lib/native.js';
import { writeAllAt } from '../../lib/pieceWrite.js';
import { WRITEBACK_EVERY_BYTES, WritebackPacer, type StartWriteback } from '../../lib/writeback.js';

const native = loadNative();
const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-writeback-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('startWriteback (native)', () => {
  it('starts writeback of a written range: 0 on Linux, ENOSYS elsewhere', async () => {
    const fd = openSync(join(dir, 'data.bin'), 'w');
    try {
      writeSync(fd, Buffer.alloc(1 << 20, 1));
      expect(await native.startWriteback(fd, 0, 1 << 20)).toBe(process.platform === 'linux' ? 0 : 38);
    } finally {
      closeSync(fd);
    }
  });

  it.runIf(process.platform === 'linux')('reports a descriptor that is not open as EBADF instead of throwing', async () => {
    const fd = openSync(join(dir, 'closed.bin'), 'w');
    closeSync(fd);
    expect(await native.startWriteback(fd, 0, 4096)).toBe(9);
  });

  it.each([
    [-1, 0, 1, RangeError],
    [1.5, 0, 1, RangeError],
    [2 ** 31, 0, 1, RangeError],
    [3, -1, 1, RangeError],
    [3, 0, Number.NaN, RangeError],
    ['3', 0, 1, TypeError],
    [3, 0, undefined, TypeError],
  ])('refuses (%j, %j, %j): not a number is a TypeError, out of range a RangeError', (fd, offset, length, kind) => {
    expect(() => native.startWriteback(fd as number, offset, length as number)).toThrow(kind);
  });
});

/** A fake native call that records its ranges and how many run at once. */
function recorder(answer: (call: number) => number | Error = () => 0) {
  const calls: Array<[number, number, number]> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const start: StartWriteback = async (fd, offset, length) => {
    const call = calls.push([fd, offset, length]);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((resolve) => setTimeout(resolve, 1));
    inFlight--;
    const result = answer(call);
    if (result instanceof Error) throw result;
    return result;
  };
  return { start, calls, maxInFlight: () => maxInFlight };
}

describe('WritebackPacer', () => {
  const MiB = 1 << 20;

  it('hands over every full 64 MiB of the run once, in order, one request at a time', async () => {
    const r = recorder();
    const pacer = new WritebackPacer(7, 100, r.start);
    for (let end = 100 + 10 * MiB; end <= 100 + 300 * MiB; end += 10 * MiB) pacer.advance(end);
    await pacer.settle();
    expect(r.calls.length).toBe(4); // 70 MiB each: the first end at or past each 64 MiB step
    let at = 100;
    for (const [fd, offset, length] of r.calls) {
      expect(fd).toBe(7);
      expect(offset).toBe(at);
      expect(length).toBeGreaterThanOrEqual(WRITEBACK_EVERY_BYTES);
      at += length;
    }
    expect(at).toBe(100 + 280 * MiB);
    expect(r.maxInFlight()).toBe(1);
  });

  it('stops asking after a nonzero errno, and after a throw, without rejecting settle()', async () => {
    for (const answer of [() => 38, () => new TypeError('bad fd')]) {
      const r = recorder(answer);
      const pacer = new WritebackPacer(3, 0, r.start);
      pacer.advance(64 * MiB);
      await pacer.settle();
      pacer.advance(200 * MiB);
      await expect(pacer.settle()).resolves.toBeUndefined();
      expect(r.calls.length).toBe(1);
    }
  });

  it('does nothing without the native call', async () => {
    const pacer = new WritebackPacer(3, 0, null);
    pacer.advance(1 << 30);
    await expect(pacer.settle()).resolves.toBeUndefined();
  });
});

describe('writeAllAt (native writeAt in 64 KiB pieces)', () => {
  it('writes every byte at its position, across piece boundaries, with holes left as zeros', async () => {
    const path = join(dir, 'pieces.bin');
    const handle = await open(path, 'w+');
    try {
      const bytes = new Uint8Array(200_001).map((_, i) => (i * 31 + 7) & 0xff);
      await writeAllAt(handle, bytes, 12_345);
      await writeAllAt(handle, new Uint8Array(0), 999_999); // nothing to write: the file keeps its size
      const back = readFileSync(path);
      expect(back.length).toBe(12_345 + bytes.length);
      expect(back.subarray(0, 12_345).every((b) => b === 0)).toBe(true);
      expect(Buffer.compare(back.subarray(12_345), bytes)).toBe(0);
    } finally {
      await handle.close();
    }
  });

  it('fails with the errno code node:fs uses, on a descriptor open only for reading', async () => {
    const path = join(dir, 'readonly.bin');
    writeFileSync(path, 'x');
    const handle = await open(path, 'r');
    try {
      await expect(writeAllAt(handle, new Uint8Array(10), 0)).rejects.toMatchObject({ code: 'EBADF', syscall: 'write' });
    } finally {
      await handle.close();
    }
  });

  it('refuses arguments that are not (fd, Uint8Array, position)', () => {
    expect(() => native.writeAt(3, new Uint16Array(2) as unknown as Uint8Array, 0)).toThrow(TypeError);
    expect(() => native.writeAt(3, new Uint8Array(2), -1)).toThrow(RangeError);
    expect(() => native.writeAt(-1, new Uint8Array(2), 0)).toThrow(RangeError);
    expect(() => native.writeAt(3, new Uint8Array(2), '0' as unknown as number)).toThrow(TypeError);
  });
});

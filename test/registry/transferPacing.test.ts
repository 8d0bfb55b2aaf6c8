// The pieces that decide how a blob download spends connections and memory: the shared slots
// (resizable, first come first served), the connection ramp (grows only while growing pays, parts in
// file order) and the pool that recycles bulkGet's 1 MiB blocks.
import { describe, expect, it } from 'vitest';
import { BLOCK_BYTES, BlockPool } from '../../lib/registry/bulkGet.js';
import { ConnectionRamp } from '../../lib/registry/connectionRamp.js';
import { TransferSlots } from '../../lib/registry/slots.js';

/** A task that runs until released, recording when it started. */
function gatedTask(started: number[], id: number) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  return { run: () => (started.push(id), gate), release };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('TransferSlots', () => {
  it('serves waiters in call order, lets running tasks finish when shrunk and starts waiters when grown', async () => {
    const slots = new TransferSlots(2);
    const started: number[] = [];
    const tasks = [0, 1, 2, 3, 4].map((i) => gatedTask(started, i));
    const runs = tasks.map((t) => slots.run(t.run));
    await tick();
    expect(started).toEqual([0, 1]);
    slots.resize(1);
    tasks[0]?.release();
    await tick();
    expect(started).toEqual([0, 1]); // one still running fills the smaller limit
    tasks[1]?.release();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    slots.resize(3);
    await tick();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    for (const t of tasks) t.release();
    await Promise.all(runs);
    expect(() => slots.resize(0)).toThrow(RangeError);
  });

  it('an aborted waiter leaves the queue without taking a slot', async () => {
    const slots = new TransferSlots(1);
    const started: number[] = [];
    const first = gatedTask(started, 0);
    const running = slots.run(first.run);
    const controller = new AbortController();
    const waiting = slots.run(async () => started.push(1), controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    const third = slots.run(async () => started.push(2));
    first.release();
    await Promise.all([running, third]);
    expect(started).toEqual([0, 2]);
  });
});

/**
 * Drives a ramp against a simulated link: `rateFor(width)` bytes per ms reach the client while
 * `width` parts run, reported every 10 ms of fake time. Returns the widths seen.
 */
function simulate(rateFor: (width: number, now: number) => number, max: number, ms = 3000): number[] {
  let now = 0;
  const ramp = new ConnectionRamp({ max, now: () => now });
  const widths = [ramp.width];
  ramp.transferred(1); // the first byte opens the first window
  for (; now < ms; ) {
    now += 10;
    ramp.transferred(rateFor(ramp.width, now) * 10);
    if (widths.at(-1) !== ramp.width) widths.push(ramp.width);
  }
  return widths;
}

describe('ConnectionRamp', () => {
  it('stays at one connection where one already takes all the bandwidth (loopback, LAN)', () => {
    expect(simulate(() => 500_000, 16)).toEqual([1, 2, 1]);
  });

  it('opens connection after connection over a link where each one is capped (long round trips)', () => {
    // 10 MB/s per connection, 85 MB/s for the link: 8 connections still gain, 16 barely do and step back.
    expect(simulate((w) => Math.min(w * 10_000, 85_000), 16)).toEqual([1, 2, 4, 8, 16, 8]);
    // Gains all the way up: it ends at the cap (the pull's concurrency) once the last step paid off too.
    expect(simulate((w) => w * 10_000, 10)).toEqual([1, 2, 4, 8, 10]);
  });

  it('tries one doubling again every 5 s, so a dip during the first ramp does not hold it back for good', () => {
    // The doubling to 8 meets congestion (8 connections move what 4 did) until 2 s: it settles at 4,
    // and the probe at 6 s finds that 8 pays now (16 still does not).
    const dip = (w: number, now: number) => (w === 8 && now < 2000 ? 40_000 : Math.min(w * 10_000, 85_000));
    expect(simulate(dip, 16, 8000)).toEqual([1, 2, 4, 8, 4, 8, 16, 8]);
    // Where one connection takes everything, a probe costs one 250 ms window at two, every 5 s.
    expect(simulate(() => 500_000, 16, 12_000)).toEqual([1, 2, 1, 2, 1, 2, 1]);
  });

  it('never grows past one when the cap is one, and rejects a bad cap', () => {
    expect(simulate((w) => w * 10_000, 1)).toEqual([1]);
    expect(() => new ConnectionRamp({ max: 0 })).toThrow(RangeError);
  });

  it('starts parts in call order and holds the rest until the width grows', async () => {
    let now = 0;
    const ramp = new ConnectionRamp({ max: 4, windowMs: 100, now: () => now });
    const started: number[] = [];
    const tasks = [0, 1, 2, 3].map((i) => gatedTask(started, i));
    const runs = tasks.map((t) => ramp.run(t.run));
    await tick();
    expect(started).toEqual([0]);
    ramp.transferred(1);
    now = 100;
    ramp.transferred(1_000_000); // first measured window: double
    await tick();
    expect(started).toEqual([0, 1]);
    now = 200;
    ramp.transferred(3_000_000); // 3x the rate: double again
    await tick();
    expect(started).toEqual([0, 1, 2, 3]);
    for (const t of tasks) t.release();
    await Promise.all(runs);
  });
});

describe('BlockPool', () => {
  it('hands back blocks it was given, up to its limit, and ignores buffers that are not whole blocks', () => {
    const pool = new BlockPool(2);
    const a = pool.take();
    const b = pool.take();
    const c = pool.take();
    expect(a.length).toBe(BLOCK_BYTES);
    expect(new Set([a.buffer, b.buffer, c.buffer]).size).toBe(3);
    pool.give(a.subarray(0, 100)); // a short last block of a body is still the whole block
    pool.give(a); // given twice: kept once
    pool.give(b);
    pool.give(c); // over the limit: dropped
    pool.give(Buffer.alloc(BLOCK_BYTES).subarray(1)); // not at a block's start
    pool.give(Buffer.alloc(16)); // not a block
    const reused = [pool.take().buffer, pool.take().buffer];
    expect(new Set(reused)).toEqual(new Set([a.buffer, b.buffer]));
    expect([a.buffer, b.buffer, c.buffer]).not.toContain(pool.take().buffer);
  });
});

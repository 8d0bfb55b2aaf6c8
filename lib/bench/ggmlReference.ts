// ggml's own ggml_quantize_chunk (llama.cpp's libggml-base.so) for `gguf-forge bench quantize`,
// loaded through koffi when both are installed: koffi and @node-llama-cpp/<platform> are
// devDependencies, so this module imports neither statically and reports why it could not load.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface GgmlQuantizer {
  /** The library file and ggml_version(). */
  path: string;
  version: string;
  /** ggml_quantize_chunk(type, src, dst, 0, rows, cols, NULL) on the calling thread; bytes written. */
  quantizeChunk(type: number, src: Float32Array, dst: Uint8Array, rows: number, cols: number): number;
  /**
   * `threads` worker_threads, each with its own koffi and library handle, for quantizeSplit();
   * close() ends them.
   */
  startWorkers(threads: number): Promise<GgmlWorkers>;
}

export interface GgmlWorkers {
  /**
   * Splits the rows of `src` (in a SharedArrayBuffer) into one contiguous range per worker and runs
   * ggml_quantize_chunk on each at once, writing into `dst` (in a SharedArrayBuffer); resolves when
   * all are done.
   */
  quantizeSplit(type: number, src: Float32Array, dst: Uint8Array, rows: number, cols: number, rowBytes: number): Promise<void>;
  close(): Promise<void>;
}

export type GgmlQuantizerResult = { ok: true; ggml: GgmlQuantizer } | { ok: false; reason: string };

const HINT = 'reference unavailable: install @node-llama-cpp/linux-x64 and koffi (both devDependencies of gguf-forge; `npm run bench` in a clone has them)';

/** libggml-base.so of @node-llama-cpp/<platform>-<arch>, searched in node_modules above this file and the working directory. */
function findLibrary(): string | undefined {
  const fromEnv = process.env.GGUF_FORGE_GGML_BASE;
  if (fromEnv) return fromEnv;
  const plat = `${process.platform}-${process.arch}`;
  const file = process.platform === 'win32' ? 'ggml-base.dll' : process.platform === 'darwin' ? 'libggml-base.dylib' : 'libggml-base.so';
  const starts = [dirname(fileURLToPath(import.meta.url)), process.cwd()];
  for (const start of starts) {
    for (let dir = start; ; ) {
      const candidate = join(dir, 'node_modules', '@node-llama-cpp', plat, 'bins', plat, file);
      if (existsSync(candidate)) return candidate;
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return undefined;
}

// CommonJS, run with `new Worker(code, { eval: true })`: one library handle per thread.
const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const koffi = require(workerData.koffiPath);
const lib = koffi.load(workerData.libPath);
const chunk = lib.func('size_t ggml_quantize_chunk(int type, const float *src, void *dst, int64_t start, int64_t nrows, int64_t n_per_row, const float *imatrix)');
const init = lib.func('void ggml_quantize_init(int type)');
parentPort.on('message', (m) => {
  try {
    init(m.type);
    const src = new Float32Array(m.src, m.srcOffset, m.rows * m.cols);
    const dst = new Uint8Array(m.dst, m.dstOffset, m.rows * m.rowBytes);
    const written = Number(chunk(m.type, src, dst, 0, m.rows, m.cols, null));
    parentPort.postMessage({ written });
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err) });
  }
});
parentPort.postMessage({ ready: true });
`;

let pending: Promise<GgmlQuantizerResult> | undefined;

/** Loads ggml's quantizer once; never throws (ok: false with the reason instead). */
export function loadGgmlQuantizer(): Promise<GgmlQuantizerResult> {
  pending ??= load();
  return pending;
}

async function load(): Promise<GgmlQuantizerResult> {
  const path = findLibrary();
  if (!path) return { ok: false, reason: `${HINT} (no libggml-base for ${process.platform}-${process.arch} found; GGUF_FORGE_GGML_BASE may name one)` };
  let koffi: typeof import('koffi');
  let koffiPath: string;
  try {
    const mod = (await import('koffi')) as typeof import('koffi') & { default?: typeof import('koffi') };
    koffi = mod.default ?? mod;
    koffiPath = createRequire(import.meta.url).resolve('koffi');
  } catch (err) {
    return { ok: false, reason: `${HINT} (koffi: ${(err as Error).message.split('\n')[0]})` };
  }
  try {
    const lib = koffi.load(path);
    const version = (lib.func('const char *ggml_version(void)') as () => string)();
    const chunk = lib.func(
      'size_t ggml_quantize_chunk(int type, const float *src, void *dst, int64_t start, int64_t nrows, int64_t n_per_row, const float *imatrix)',
    );
    const init = lib.func('void ggml_quantize_init(int type)') as (type: number) => void;
    const initialized = new Set<number>();
    const prepare = (type: number): void => {
      if (!initialized.has(type)) {
        init(type); // ggml_quantize_chunk does this too, but not thread-safely before the first call
        initialized.add(type);
      }
    };
    const ggml: GgmlQuantizer = {
      path,
      version,
      quantizeChunk(type, src, dst, rows, cols) {
        prepare(type);
        return Number(chunk(type, src, dst, 0, rows, cols, null));
      },
      startWorkers(threads) {
        return startWorkers(threads, koffiPath, path);
      },
    };
    return { ok: true, ggml };
  } catch (err) {
    return { ok: false, reason: `could not load ${path}: ${(err as Error).message.split('\n')[0]}` };
  }
}

interface WorkerReply {
  ready?: boolean;
  written?: number;
  error?: string;
}

async function startWorkers(threads: number, koffiPath: string, libPath: string): Promise<GgmlWorkers> {
  const { Worker } = await import('node:worker_threads');
  const workers: InstanceType<typeof Worker>[] = [];
  const next = (w: InstanceType<typeof Worker>): Promise<WorkerReply> =>
    new Promise((resolve, reject) => {
      const onMessage = (m: WorkerReply): void => {
        w.off('error', onError);
        resolve(m);
      };
      const onError = (err: Error): void => {
        w.off('message', onMessage);
        reject(err);
      };
      w.once('message', onMessage);
      w.once('error', onError);
    });
  try {
    for (let i = 0; i < threads; i++) {
      const w = new Worker(WORKER_CODE, { eval: true, workerData: { koffiPath, libPath } });
      workers.push(w);
      const first = await next(w);
      if (!first.ready) throw new Error(first.error ?? 'ggml worker did not start');
    }
  } catch (err) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw err;
  }
  return {
    async quantizeSplit(type, src, dst, rows, cols, rowBytes) {
      if (!(src.buffer instanceof SharedArrayBuffer) || !(dst.buffer instanceof SharedArrayBuffer)) {
        throw new TypeError('quantizeSplit needs src and dst in SharedArrayBuffers');
      }
      const per = Math.ceil(rows / workers.length);
      const replies: Promise<WorkerReply>[] = [];
      workers.forEach((w, i) => {
        const first = Math.min(rows, i * per);
        const count = Math.min(rows, first + per) - first;
        if (count === 0) return;
        const reply = next(w);
        w.postMessage({
          type,
          src: src.buffer,
          srcOffset: src.byteOffset + first * cols * 4,
          dst: dst.buffer,
          dstOffset: dst.byteOffset + first * rowBytes,
          rows: count,
          cols,
          rowBytes,
        });
        replies.push(reply);
      });
      for (const r of await Promise.all(replies)) if (r.error) throw new Error(`ggml worker: ${r.error}`);
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

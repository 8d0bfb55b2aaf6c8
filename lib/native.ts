// The one place that loads the native addon. Everything else imports `loadNative()` from here,
// so the parts of the package that need no kernels keep working when no binary can be loaded.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A read-only (copy-on-write) memory mapping of a whole file. */
export interface NativeMapping {
  /** File size in bytes at the time of mapping. */
  readonly size: number;
  /** True once close() was called. */
  readonly closed: boolean;
  /**
   * Zero-copy external ArrayBuffer over [offset, offset + length). Throws RangeError outside the
   * file or after close(). The mapping stays alive while any view is reachable.
   */
  view(offset: number, length: number): ArrayBuffer;
  /** Detaches every view handed out and unmaps now (idempotent). */
  close(): void;
}

export type IsaName = 'scalar' | 'avx2' | 'avx512' | 'neon';

/** The typed surface of the compiled addon (cpp/napi). */
export interface NativeAddon {
  /** CPU features as detected with OS support checked (e.g. avx512f is false if the OS does not save zmm state). */
  cpuFeatures(): Record<string, boolean>;
  /** ISA the kernels currently dispatch to. */
  isa(): IsaName;
  /** ISAs compiled into this binary that this CPU and OS can run, baseline first. */
  supportedIsas(): IsaName[];
  /** Switches the dispatch table (GGUF_FORGE_ISA does the same at load). Throws if unsupported. */
  setIsa(isa: string): void;
  /** Set when GGUF_FORGE_ISA named an unknown or unusable ISA and the best one was used instead. */
  isaWarning(): string | undefined;
  /** Threads the native pool runs kernels on (including the calling thread). */
  threadCount(): number;
  fp32ToFp16(src: Float32Array, dst: Uint16Array, threads: number): void;
  fp16ToFp32(src: Uint16Array, dst: Float32Array, threads: number): void;
  fp32ToBf16(src: Float32Array, dst: Uint16Array, threads: number): void;
  bf16ToFp32(src: Uint16Array, dst: Float32Array, threads: number): void;
  /**
   * Starts writeback of [offset, offset + length) of the open file `fd` without waiting for it
   * (Linux sync_file_range SYNC_FILE_RANGE_WRITE, on a libuv pool thread). Resolves with 0 or an
   * errno value (ENOSYS where unsupported); an fsync is still what makes the bytes durable.
   */
  startWriteback(fd: number, offset: number, length: number): Promise<number>;
  /**
   * Writes all of `bytes` at `position` of the open file `fd` with pwrite in 64 KiB pieces, on a
   * libuv pool thread (cpp/io/piecewise_write.h says why pieces). Resolves with 0 or the errno of
   * the failed call (ENOSYS where unsupported); `bytes` must not change until it settles.
   */
  writeAt(fd: number, bytes: Uint8Array, position: number): Promise<number>;
  /** Maps a whole file (opened read-only, mapped MAP_PRIVATE so stray writes never reach the file). */
  mapFile(path: string): NativeMapping;
  /**
   * ggml_quantize_chunk over `rows` rows of `cols` source elements into `dst` (rows * row bytes),
   * split over the pool by rows (output independent of `threads`; 0 = the pool size).
   * `sourceType` is the ggml id of the source elements: 0 F32 (Float32Array or raw bytes),
   * 1 F16 or 30 BF16 (Uint16Array or raw bytes). Throws TypeError/RangeError on bad arguments.
   */
  quantizeSync(
    type: number,
    src: Float32Array | Uint16Array | Uint8Array,
    sourceType: number,
    dst: Uint8Array,
    rows: number,
    cols: number,
    imatrix: Float32Array | null,
    threads: number,
  ): void;
  /**
   * quantizeSync on a libuv worker thread; `callback` runs on the JS thread when done, with
   * `cancelled` true when cancel() stopped it (dst is then partly written). The cancel flag is
   * read before each row chunk.
   */
  quantizeAsync(
    type: number,
    src: Float32Array | Uint16Array | Uint8Array,
    sourceType: number,
    dst: Uint8Array,
    rows: number,
    cols: number,
    imatrix: Float32Array | null,
    threads: number,
    callback: (error: Error | null, cancelled: boolean) => void,
  ): NativeQuantizeTask;
  /** ggml's to_float: `count` weights (whole blocks) of `type` from `src` into `dst`. */
  dequantize(type: number, src: Uint8Array, dst: Float32Array, count: number, threads: number): void;
  /**
   * C = alpha * op(A) * op(B) + beta * C in f32 (cpp/matmul), dense row-major: op(A) is m x k
   * (`a` holds k x m when transA), op(B) is k x n (`b` holds n x k when transB), C is m x n and
   * must not overlap a or b. beta 0 writes C without reading it. Output independent of `threads`
   * (0 = the pool size). Throws TypeError/RangeError on bad arguments.
   */
  gemmSync(
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    alpha: number,
    beta: number,
    threads: number,
  ): void;
  /**
   * gemmSync on a libuv worker thread; `callback` runs on the JS thread when done, with
   * `cancelled` true when cancel() stopped it (C is then partly updated). The cancel flag is read
   * between blocks of C.
   */
  gemmAsync(
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    alpha: number,
    beta: number,
    threads: number,
    callback: (error: Error | null, cancelled: boolean) => void,
  ): NativeGemmTask;
}

/** Handle of a running gemmAsync. */
export interface NativeGemmTask {
  /** Asks the job to stop before its next block of C (idempotent; no effect once it finished). */
  cancel(): void;
}

/** Handle of a running quantizeAsync. */
export interface NativeQuantizeTask {
  /** Asks the job to stop before its next row chunk (idempotent; no effect once it finished). */
  cancel(): void;
}

/** Thrown when no compiled binary of the addon can be loaded; the message says why and what to do. */
export class NativeLoadError extends Error {
  readonly code = 'ERR_GGUF_FORGE_NATIVE';
  readonly attempts: ReadonlyArray<{ path: string; error: string }>;
  constructor(message: string, attempts: Array<{ path: string; error: string }>) {
    super(message);
    this.name = 'NativeLoadError';
    this.attempts = attempts;
  }
}

const require = createRequire(import.meta.url);
/** Package root: this file is lib/native.ts in the repository and dist/native.js when built. */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

let addon: NativeAddon | undefined;
let loadError: NativeLoadError | undefined;
let binaryPath: string | undefined;

function candidatePaths(): string[] {
  const paths: string[] = [];
  const explicit = process.env.GGUF_FORGE_BINARY;
  if (explicit) paths.push(explicit);
  paths.push(join(packageRoot, 'build', 'Release', 'gguf_forge.node'));
  paths.push(join(packageRoot, 'build', 'Debug', 'gguf_forge.node'));
  paths.push(join(packageRoot, 'build-cmake', 'Release', 'gguf_forge.node'));
  try {
    // node-gyp-build applies the prebuild tag rules (platform, arch, libc, napi).
    const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };
    const previous = process.env.PREBUILDS_ONLY;
    process.env.PREBUILDS_ONLY = '1';
    try {
      paths.push(nodeGypBuild.path(packageRoot));
    } finally {
      if (previous === undefined) delete process.env.PREBUILDS_ONLY;
      else process.env.PREBUILDS_ONLY = previous;
    }
  } catch {
    // no matching prebuild: reported below through the missing candidates
  }
  return [...new Set(paths)];
}

function hasCommand(name: string): boolean {
  const dirs = (process.env.PATH ?? '').split(process.platform === 'win32' ? ';' : ':');
  return dirs.some((dir) => dir && existsSync(join(dir, name)));
}

function libcName(): string {
  if (process.platform !== 'linux') return '';
  const report = process.report?.getReport?.() as { header?: { glibcVersionRuntime?: string } } | undefined;
  const glibc = report?.header?.glibcVersionRuntime;
  return glibc ? `glibc ${glibc}` : 'musl (or unknown libc)';
}

function buildLoadError(attempts: Array<{ path: string; error: string }>): NativeLoadError {
  const platform = `${process.platform}-${process.arch}`;
  const libc = libcName();
  const lines = [
    `Could not load the gguf-forge native addon for ${platform}${libc ? ` (${libc})` : ''}, Node ${process.versions.node} (N-API ${process.versions.napi}).`,
    '',
    'Tried:',
    ...(attempts.length ? attempts.map((a) => `- ${a.path}: ${a.error}`) : ['- no binary found (no build/Release/gguf_forge.node, no matching prebuilds/ entry)']),
    '',
    'Possible solutions:',
  ];
  const missingTools = ['python3', 'make', process.platform === 'darwin' ? 'clang++' : 'g++'].filter((t) => !hasCommand(t));
  if (attempts.some((a) => /invalid ELF header|wrong ELF class|not a valid Win32|mach-o/i.test(a.error))) {
    lines.push('- The binary was built for another platform or architecture: rebuild it here (below).');
  }
  if (attempts.some((a) => /GLIBC|GLIBCXX|CXXABI/.test(a.error))) {
    lines.push('- The binary needs a newer C/C++ runtime than this system has: build from source here (below).');
  }
  if (attempts.some((a) => /--no-addons|addons are disabled/i.test(a.error))) {
    lines.push('- Node was started with --no-addons: remove that flag.');
  }
  lines.push(
    `- Build from source: npm rebuild gguf-forge --build-from-source${missingTools.length ? ` (first install the build tools missing on PATH: ${missingTools.join(', ')})` : ''}.`,
    '  In a clone of the repository: npm run build:native (node-gyp) or npm run build:cmake (cmake-js).',
    '- Point GGUF_FORGE_BINARY at a gguf_forge.node built elsewhere for this platform.',
    'GGUF metadata, Modelfiles and the model store keep working without the addon; only kernels (quantize, convert, mmap) need it.',
  );
  return new NativeLoadError(lines.join('\n'), attempts);
}

/** Loads the addon once; throws NativeLoadError (every time) when no binary can be loaded. */
export function loadNative(): NativeAddon {
  if (addon) return addon;
  if (loadError) throw loadError;
  const attempts: Array<{ path: string; error: string }> = [];
  for (const path of candidatePaths()) {
    if (!existsSync(path)) {
      if (path === process.env.GGUF_FORGE_BINARY) attempts.push({ path, error: 'file does not exist (GGUF_FORGE_BINARY)' });
      continue;
    }
    try {
      addon = require(path) as NativeAddon;
      binaryPath = path;
      return addon;
    } catch (err) {
      attempts.push({ path, error: (err as Error).message.split('\n')[0] ?? String(err) });
    }
  }
  loadError = buildLoadError(attempts);
  throw loadError;
}

const optionalCalls = new Map<keyof NativeAddon, unknown>();

/**
 * One function of the addon, bound, or null when no binary loads or the loaded one (an older
 * prebuild) lacks it: for calls that only speed things up, whose callers have a plain fallback.
 */
export function optionalNativeCall<K extends keyof NativeAddon>(name: K): NativeAddon[K] | null {
  if (optionalCalls.has(name)) return optionalCalls.get(name) as NativeAddon[K] | null;
  let call: NativeAddon[K] | null = null;
  try {
    const native = loadNative();
    const f: unknown = native[name];
    if (typeof f === 'function') call = f.bind(native) as NativeAddon[K];
  } catch {
    call = null;
  }
  optionalCalls.set(name, call);
  return call;
}

/** True when the addon loads; never throws. */
export function nativeAvailable(): boolean {
  try {
    loadNative();
    return true;
  } catch {
    return false;
  }
}

/** Path of the loaded binary, or undefined before a successful loadNative(). */
export function nativeBinaryPath(): string | undefined {
  return binaryPath;
}

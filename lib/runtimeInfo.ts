import { arch, cpus, platform } from 'node:os';
import { packageVersion } from './version.js';
import { loadNative, nativeBinaryPath } from './native.js';

/** What `gguf-forge info` reports: versions, platform, and the native kernels' view of the CPU. */
export interface RuntimeInfo {
  version: string;
  node: string;
  platform: string;
  cpu: string;
  native: { loaded: boolean; binary?: string; error?: string };
  cpuFeatures?: Record<string, boolean>;
  isa?: string;
  isaWarning?: string;
  supportedIsas?: string[];
  threads?: number;
}

export function runtimeInfo(): RuntimeInfo {
  const info: RuntimeInfo = {
    version: packageVersion,
    node: process.versions.node,
    platform: `${platform()}-${arch()}`,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    native: { loaded: false },
  };
  try {
    const native = loadNative();
    info.native = { loaded: true, binary: nativeBinaryPath() };
    info.cpuFeatures = native.cpuFeatures();
    info.isa = native.isa();
    const warning = native.isaWarning();
    if (warning) info.isaWarning = warning;
    info.supportedIsas = native.supportedIsas();
    info.threads = native.threadCount();
  } catch (err) {
    info.native = { loaded: false, error: (err as Error).message };
  }
  return info;
}

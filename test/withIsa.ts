// Runs `body` with the kernels dispatched to `isa` (as GGUF_FORGE_ISA would at load), then restores the previous ISA.
import { loadNative, type IsaName } from '../lib/native.js';

export function withIsa<T>(isa: IsaName, body: () => T): T {
  const native = loadNative();
  const previous = native.isa();
  native.setIsa(isa);
  try {
    return body();
  } finally {
    native.setIsa(previous);
  }
}

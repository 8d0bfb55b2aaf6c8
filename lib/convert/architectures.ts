// The architectures gguf-forge converts, by config.json architectures[0].
import { ConvertError } from './errors.js';
import { gemmaConverters } from './gemma.js';
import { llamaConverters } from './llama.js';
import { phi3Converter } from './phi3.js';
import { qwenConverters } from './qwen.js';
import type { ArchitectureConverter } from './model.js';

const CONVERTERS: ArchitectureConverter[] = [...llamaConverters, ...qwenConverters, ...gemmaConverters, phi3Converter];

/** config.json architectures[0] values convertModel accepts. */
export const SUPPORTED_ARCHITECTURES: readonly string[] = CONVERTERS.flatMap((c) => c.names);

export function converterFor(hfArch: unknown, file?: string): ArchitectureConverter {
  const found = typeof hfArch === 'string' ? CONVERTERS.find((c) => c.names.includes(hfArch)) : undefined;
  if (!found) {
    throw new ConvertError(
      'ERR_CONVERT_ARCH',
      `Architecture ${JSON.stringify(hfArch)} is not supported. Supported: ${SUPPORTED_ARCHITECTURES.join(', ')}`,
      { file },
    );
  }
  return found;
}

import { runtimeInfo } from '../runtimeInfo.js';
import { parseCommandArgs, printJson, type Command } from './usage.js';

export const infoCommand: Command = {
  name: 'info',
  summary: 'version, platform, CPU features, chosen SIMD level, threads',
  usage: 'gguf-forge info [--json]',
  async run(argv) {
    const { values } = parseCommandArgs(argv, { json: { type: 'boolean' } }, infoCommand);
    if (values.help) {
      process.stdout.write(`Usage: ${infoCommand.usage}\n\n${infoCommand.summary}. GGUF_FORGE_ISA=scalar|avx2|avx512|neon forces a kernel level, GGUF_FORGE_THREADS the thread count.\n`);
      return 0;
    }
    const info = runtimeInfo();
    if (values.json) {
      printJson(info);
      return 0;
    }
    const features = Object.entries(info.cpuFeatures ?? {})
      .filter(([, on]) => on)
      .map(([name]) => name);
    const lines = [
      `gguf-forge ${info.version}`,
      `node        ${info.node}`,
      `platform    ${info.platform}`,
      `cpu         ${info.cpu}`,
    ];
    if (info.native.loaded) {
      lines.push(
        `addon       ${info.native.binary}`,
        `features    ${features.join(' ') || '(none)'}`,
        `isa         ${info.isa} (available: ${info.supportedIsas?.join(', ')})`,
        `threads     ${info.threads}`,
      );
      if (info.isaWarning) lines.push(`warning     ${info.isaWarning}`);
    } else {
      lines.push(`addon       not loaded`, '', info.native.error ?? '');
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};

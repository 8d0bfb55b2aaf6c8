import { describe, expect, it } from 'vitest';
import { nativeAvailable } from '../../lib/native.js';
import { runCli } from './cliRunner.js';

describe('gguf-forge info', () => {
  it('prints version, platform, features, chosen ISA and threads', () => {
    const cli = runCli(['info']);
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/^gguf-forge \d+\.\d+\.\d+/);
    expect(cli.stdout).toContain(`${process.platform}-${process.arch}`);
    if (nativeAvailable()) {
      expect(cli.stdout).toMatch(/^isa\s+(scalar|avx2|avx512|neon) \(available: /m);
      expect(cli.stdout).toMatch(/^threads\s+\d+$/m);
    }
  });

  it.skipIf(!nativeAvailable())('--json reports the ISA forced by GGUF_FORGE_ISA', () => {
    for (const isa of ['scalar', 'avx2']) {
      const cli = runCli(['info', '--json'], { GGUF_FORGE_ISA: isa });
      expect(cli.status, cli.stderr).toBe(0);
      const info = JSON.parse(cli.stdout) as { isa: string; supportedIsas: string[]; threads: number };
      if (info.supportedIsas.includes(isa)) expect(info.isa).toBe(isa);
      expect(info.threads).toBeGreaterThan(0);
    }
  });
});

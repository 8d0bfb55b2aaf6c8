import { describe, expect, it } from 'vitest';
import { nativeAvailable } from '../../lib/native.js';
import { loadGgmlBase } from '../reference/ggmlLibrary.js';
import { runCli } from './cliRunner.js';

interface Timing {
  threads: number;
  mbPerSecond: number;
}
interface BenchJson {
  values: number;
  threads: number[];
  ggml: { version: string } | { unavailable: string };
  results: Array<{ type: string; ours: Timing[]; ggml: Timing[] | null; identical: boolean | null }>;
  mismatches: string[];
}

describe('gguf-forge bench quantize', () => {
  it.skipIf(!nativeAvailable())('--json: one row per type, positive MB/s, bytes equal to ggml where it loads', () => {
    const cli = runCli(['bench', 'quantize', '--types', 'Q8_0,Q4_0', '--values', '65536', '--json']);
    expect(cli.status, cli.stderr).toBe(0);
    const result = JSON.parse(cli.stdout) as BenchJson;
    expect(result.values).toBe(65536);
    expect(result.threads).toEqual([1, 2]);
    expect(result.results.map((r) => r.type)).toEqual(['Q8_0', 'Q4_0']);
    for (const row of result.results) {
      expect(row.ours.map((t) => t.threads)).toEqual([1, 2]);
      for (const t of row.ours) expect(t.mbPerSecond).toBeGreaterThan(0);
    }
    if (loadGgmlBase()) {
      expect('version' in result.ggml, JSON.stringify(result.ggml)).toBe(true);
      for (const row of result.results) {
        expect(row.identical).toBe(true);
        for (const t of row.ggml ?? []) expect(t.mbPerSecond).toBeGreaterThan(0);
        expect(row.ggml).toHaveLength(2);
      }
    }
    expect(result.mismatches).toEqual([]);
  });

  it.skipIf(!nativeAvailable())('prints the table, and --ours-only leaves ggml out', () => {
    const cli = runCli(['bench', 'quantize', '--types', 'q4_k', '--values', '65536', '--threads', '1', '--ours-only']);
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toContain('ggml reference: not requested');
    expect(cli.stdout).toMatch(/^Q4_K\s+\d+/m);
  });

  it('rejects a bad benchmark, type or value count with exit 2', () => {
    for (const args of [
      ['bench'],
      ['bench', 'nope'],
      ['bench', 'quantize', '--types', 'Q9_X'],
      ['bench', 'quantize', '--types', 'F16'],
      ['bench', 'quantize', '--values', '1000'],
      ['bench', 'quantize', '--threads', '0'],
    ]) {
      const cli = runCli(args);
      expect(cli.status, `${args.join(' ')}: ${cli.stderr}`).toBe(2);
      expect(cli.stdout).toBe('');
    }
  });

  it('--help describes the benchmark', () => {
    const cli = runCli(['bench', '--help']);
    expect(cli.status).toBe(0);
    expect(cli.stdout).toContain('gguf-forge bench quantize');
  });
});

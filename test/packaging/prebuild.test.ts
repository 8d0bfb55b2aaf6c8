// A clean clone that carries a prebuild must load it without any compiler on PATH, and the install
// script must not try to build. The prebuild here is this checkout's own binary, placed where
// prebuildify puts it (prebuilds/<platform>-<arch>/gguf-forge.glibc.node).
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNative, nativeBinaryPath, packageRoot } from '../../lib/native.js';
import { sharedData, sharedDataAvailable } from '../sharedData.js';

const built = (() => {
  try {
    loadNative();
    return nativeBinaryPath();
  } catch {
    return undefined;
  }
})();

describe.skipIf(!built || process.platform !== 'linux')('packaging', () => {
  const clone = mkdtempSync(join(tmpdir(), 'gguf-forge-clone-'));
  afterAll(() => rmSync(clone, { recursive: true, force: true }));

  mkdirSync(join(clone, 'scripts'));
  mkdirSync(join(clone, 'lib'));
  for (const file of ['package.json', 'scripts/install.cjs']) copyFileSync(join(packageRoot, file), join(clone, file));
  cpSync(join(packageRoot, 'lib'), join(clone, 'lib'), { recursive: true });
  symlinkSync(join(packageRoot, 'node_modules'), join(clone, 'node_modules'));
  const prebuildDir = join(clone, 'prebuilds', `${process.platform}-${process.arch}`);
  mkdirSync(prebuildDir, { recursive: true });
  copyFileSync(built as string, join(prebuildDir, 'gguf-forge.glibc.node'));
  // A PATH with node and nothing else: no python3, make, g++ or cc.
  const bin = join(clone, '.bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: bin, npm_config_node_gyp: '' };
  delete env.GGUF_FORGE_BINARY;

  it('the install script accepts the prebuild and builds nothing', () => {
    const result = spawnSync(process.execPath, ['scripts/install.cjs'], { cwd: clone, env, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(existsSync(join(clone, 'build'))).toBe(false);
  });

  it('lib/native.ts loads the prebuild with no compiler on PATH', () => {
    const script = `const n = await import(${JSON.stringify(join(clone, 'lib', 'native.ts'))}); const a = n.loadNative(); console.log(JSON.stringify({ path: n.nativeBinaryPath(), isa: a.isa() }));`;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: clone, env, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    const loaded = JSON.parse(result.stdout) as { path: string; isa: string };
    expect(loaded.path).toBe(join(prebuildDir, 'gguf-forge.glibc.node'));
    expect(['scalar', 'avx2', 'avx512', 'neon']).toContain(loaded.isa);
  });

  it('without any binary, the loader throws one error that says what was tried and what to do', () => {
    rmSync(join(clone, 'prebuilds'), { recursive: true, force: true });
    const script = `const n = await import(${JSON.stringify(join(clone, 'lib', 'native.ts'))}); try { n.loadNative(); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: clone, env, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    const error = JSON.parse(result.stdout) as { code: string; message: string };
    expect(error.code).toBe('ERR_GGUF_FORGE_NATIVE');
    expect(error.message).toContain(`${process.platform}-${process.arch}`);
    expect(error.message).toContain('npm rebuild gguf-forge --build-from-source');
    expect(error.message).toMatch(/python3|make|g\+\+/); // names the missing build tools
  });
});

describe.skipIf(!built || !sharedDataAvailable || process.platform !== 'linux')('without the addon', () => {
  it('GGUF metadata still reads, and only a kernel call throws NativeLoadError', () => {
    const clone = mkdtempSync(join(tmpdir(), 'gguf-forge-noaddon-'));
    try {
      copyFileSync(join(packageRoot, 'package.json'), join(clone, 'package.json'));
      cpSync(join(packageRoot, 'lib'), join(clone, 'lib'), { recursive: true });
      symlinkSync(join(packageRoot, 'node_modules'), join(clone, 'node_modules'));
      const file = sharedData('gguf', 'models', 'stories260K.gguf');
      const script = `const g = await import(${JSON.stringify(join(clone, 'lib', 'index.ts'))});
        const info = await g.readGguf(${JSON.stringify(file)});
        let error;
        try { g.fp32ToFp16(new Float32Array(4)); } catch (e) { error = e; }
        console.log(JSON.stringify({ tensors: info.tensors.length, name: error?.name, code: error?.code }));`;
      const env: NodeJS.ProcessEnv = { ...process.env };
      delete env.GGUF_FORGE_BINARY;
      const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: clone, env, encoding: 'utf8', timeout: 60_000 });
      expect(result.status, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ tensors: 48, name: 'NativeLoadError', code: 'ERR_GGUF_FORGE_NATIVE' });
    } finally {
      rmSync(clone, { recursive: true, force: true });
    }
  });
});

// From commands to the create request, with Ollama's CreateRequest rules: paths versus model names,
// typed and merged parameters, last-wins and list commands, REQUIRES normalisation, DRAFT checks.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ModelfileError, expandModelfilePath, modelfileToRequest, parseModelfile, readModelfile } from '../../lib/modelfile/index.js';
import { sharedData } from '../sharedData.js';
import { haveModelfiles, sharedModelfiles } from './ollamaCases.js';

const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-modelfile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'model.gguf'), 'GGUF');
writeFileSync(join(dir, 'mmproj.gguf'), 'GGUF');
mkdirSync(join(dir, 'hf'));
mkdirSync(join(dir, 'home'));
writeFileSync(join(dir, 'home', 'adapter.gguf'), 'GGUF');
symlinkSync(join(dir, 'model.gguf'), join(dir, 'link.gguf'));

const request = (text: string, options: Parameters<typeof modelfileToRequest>[1] = {}) =>
  modelfileToRequest(parseModelfile(text, { baseDir: dir }), options);

describe("Ollama's TestCreateRequest cases", () => {
  test('model names, template, licenses, typed parameters, messages', async () => {
    expect(await request('FROM test')).toEqual({ from: 'test', warnings: [] });
    expect(await request('FROM test\nTEMPLATE some template\n')).toEqual({ from: 'test', template: 'some template', warnings: [] });
    expect(await request('FROM test\nLICENSE single license\nPARAMETER temperature 0.5\nMESSAGE user Hello\n')).toEqual({
      from: 'test',
      license: ['single license'],
      parameters: { temperature: 0.5 },
      messages: [{ role: 'user', content: 'Hello' }],
      warnings: [],
    });
    expect(
      await request(
        'FROM test\nPARAMETER temperature 0.5\nPARAMETER top_k 1\nSYSTEM You are a bot.\nLICENSE license1\nLICENSE license2\nMESSAGE user Hello there!\nMESSAGE assistant Hi! How are you?\n',
      ),
    ).toEqual({
      from: 'test',
      license: ['license1', 'license2'],
      system: 'You are a bot.',
      parameters: { temperature: 0.5, top_k: 1 },
      messages: [
        { role: 'user', content: 'Hello there!' },
        { role: 'assistant', content: 'Hi! How are you?' },
      ],
      warnings: [],
    });
  });
});

describe('parameters', () => {
  test('are typed like api.FormatParams: int64, float32, bool, stop list', async () => {
    const r = await request(
      [
        'FROM x',
        'PARAMETER num_ctx 8192',
        'PARAMETER seed -9223372036854775808',
        'PARAMETER main_gpu +1',
        'PARAMETER num_keep 007',
        'PARAMETER temperature 0.7',
        'PARAMETER top_p 1e-7',
        'PARAMETER min_p 0x1p-4',
        'PARAMETER repeat_penalty 1_000.5',
        'PARAMETER typical_p 3.4028235677973366e38',
        'PARAMETER use_mmap T',
        'PARAMETER stop <|eot_id|>',
        'PARAMETER stop "### User: "',
      ].join('\n'),
    );
    expect(r.parameters).toEqual({
      num_ctx: 8192,
      seed: -(2n ** 63n),
      main_gpu: 1,
      num_keep: 7,
      // float32 values, held as the double of their shortest decimal: 0.7, not 0.699999988079071
      temperature: 0.7,
      top_p: 1e-7,
      min_p: 0.0625,
      repeat_penalty: 1000.5,
      // just below the float32 overflow midpoint (the double nearest it is the midpoint): the largest float32
      typical_p: 3.4028235e38,
      use_mmap: true,
      stop: ['<|eot_id|>', '### User: '],
    });
  });

  test('a repeated scalar keeps the last value; deprecated names are skipped with a warning, whatever their value', async () => {
    const r = await request('FROM x\nPARAMETER temperature 0.1\nPARAMETER mirostat whatever\nPARAMETER temperature 0.9\nPARAMETER use_mlock true\n');
    expect(r.parameters).toEqual({ temperature: 0.9 });
    expect(r.warnings).toEqual(['parameter mirostat is deprecated', 'parameter use_mlock is deprecated']);
    expect(await request('FROM x\nPARAMETER penalize_newline true\n')).toEqual({ from: 'x', warnings: ['parameter penalize_newline is deprecated'] });
  });
});

describe('single and repeated commands', () => {
  test('TEMPLATE, SYSTEM, RENDERER, PARSER, REQUIRES: the last wins, and an empty value is left out like Go omitempty does', async () => {
    const r = await request(
      'FROM x\nSYSTEM first\nSYSTEM second\nTEMPLATE t\nTEMPLATE ""\nRENDERER r1\nPARSER p1\nRENDERER r2\nREQUIRES v0.14.0-rc1\nREQUIRES 0.15\n',
    );
    expect(r).toEqual({ from: 'x', system: 'second', renderer: 'r2', parser: 'p1', requires: '0.15', warnings: [] });
  });

  test('REQUIRES takes what golang.org/x/mod/semver takes, stored without the v', async () => {
    for (const [written, stored] of [
      ['0.14', '0.14'],
      ['0.14.0', '0.14.0'],
      ['v0.14.0-rc1', '0.14.0-rc1'],
      ['1', '1'],
      ['1.2.3-alpha.1+build.5', '1.2.3-alpha.1+build.5'],
      ['1.2.3-0a', '1.2.3-0a'],
    ]) {
      expect((await request(`FROM x\nREQUIRES ${written}\n`)).requires, written).toBe(stored);
    }
    for (const bad of ['1.2.3.4', '1.2.3-', '1.2.3-01', '1.2.3-a..b', '1.2.3+', 'vv1', '1.2.', '.1']) {
      await expect(request(`FROM x\nREQUIRES ${bad}\n`), bad).rejects.toMatchObject({ code: 'ERR_MODELFILE_REQUIRES' });
    }
  });
});

describe('FROM, ADAPTER and DRAFT paths', () => {
  test('a FROM that exists is a file or folder relative to the Modelfile; one that does not is a model name, kept as written', async () => {
    const r = await request('FROM ./model.gguf\nFROM mmproj.gguf\nFROM model.gguf\nFROM llama3.2:1b\nFROM ./hf\n');
    expect(r.from).toBe('llama3.2:1b');
    expect(r.files).toEqual([
      { path: join(dir, 'model.gguf'), kind: 'file', written: './model.gguf' },
      { path: join(dir, 'mmproj.gguf'), kind: 'file', written: 'mmproj.gguf' },
      { path: join(dir, 'hf'), kind: 'directory', written: './hf' },
    ]);
    expect((await request('FROM .\n')).files).toEqual([{ path: dir, kind: 'directory', written: '.' }]);
    expect((await request('FROM missing.gguf\n')).from).toBe('missing.gguf');
  });

  test('~ is the home folder, ~user another user\'s, absolute paths stay absolute', async () => {
    const homes = { someone: join(dir, 'home') };
    const options = { homeDir: join(dir, 'home'), userHome: (u: string) => homes[u as 'someone'] };
    const r = await request(`FROM ${join(dir, 'model.gguf')}\nADAPTER ~/adapter.gguf\n`, options);
    expect(r.files).toEqual([{ path: join(dir, 'model.gguf'), kind: 'file', written: join(dir, 'model.gguf') }]);
    expect(r.adapter).toEqual({ path: join(dir, 'home', 'adapter.gguf'), kind: 'file', written: '~/adapter.gguf' });
    expect((await request('FROM x\nADAPTER ~someone/adapter.gguf\n', options)).adapter?.path).toBe(join(dir, 'home', 'adapter.gguf'));
    expect((await request('FROM ~\n', options)).files).toEqual([{ path: join(dir, 'home'), kind: 'directory', written: '~' }]);
    expect(expandModelfilePath('../up/x.gguf', { baseDir: '/a/b' })).toBe('/a/up/x.gguf');
    expect(expandModelfilePath('/abs/./x.gguf', { baseDir: '/a/b' })).toBe('/abs/x.gguf');
    expect(expandModelfilePath('~', { homeDir: '/home/me' })).toBe('/home/me');
    // Ollama hands `\x` to filepath.Abs, i.e. relative to the cwd on POSIX, not to the Modelfile.
    if (process.platform !== 'win32') expect(expandModelfilePath('\\x', { baseDir: '/a/b' })).toBe(resolve('\\x'));
  });

  test('the last ADAPTER replaces the others', async () => {
    const r = await request('FROM x\nADAPTER model.gguf\nADAPTER mmproj.gguf\n');
    expect(r.adapter?.path).toBe(join(dir, 'mmproj.gguf'));
  });

  test('DRAFT must exist and must not be the same file as a FROM, links followed, in either order', async () => {
    expect((await request('FROM model.gguf\nDRAFT mmproj.gguf\n')).draftFiles).toEqual([{ path: join(dir, 'mmproj.gguf'), kind: 'file', written: 'mmproj.gguf' }]);
    for (const text of ['FROM ./model.gguf\nDRAFT ./model.gguf\n', 'FROM link.gguf\nDRAFT model.gguf\n', 'DRAFT link.gguf\nFROM ./model.gguf\n', 'FROM .\nDRAFT .\n']) {
      const err = await request(text).catch((e: unknown) => e);
      expect(err, text).toBeInstanceOf(ModelfileError);
      expect((err as ModelfileError).code).toBe('ERR_MODELFILE_PATH');
      expect((err as ModelfileError).message).toMatch(/expected DRAFT to name a different local path than FROM/);
    }
  });

  test('readModelfile decodes the file\'s bytes; its folder is the default base; an explicit baseDir option wins', async () => {
    const file = join(dir, 'Modelfile');
    writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('FROM model.gguf\n', 'utf16le')]));
    const m = await readModelfile(file);
    expect(m.baseDir).toBe(dir);
    expect((await modelfileToRequest(m)).files?.[0]?.path).toBe(join(dir, 'model.gguf'));
    expect((await modelfileToRequest(m, { baseDir: join(dir, 'hf') })).from).toBe('model.gguf');
  });
});

describe.skipIf(!haveModelfiles)('real Modelfiles become requests', () => {
  test('every shared Modelfile but one gives a request; json.Modelfile uses `grammar`, which current Ollama rejects', async () => {
    for (const file of sharedModelfiles()) {
      const m = parseModelfile(readFileSync(file), { filename: file });
      if (file.endsWith('json.Modelfile')) {
        await expect(modelfileToRequest(m)).rejects.toMatchObject({ code: 'ERR_MODELFILE_PARAMETER', line: 7, column: 11, file });
        continue;
      }
      const r = await modelfileToRequest(m);
      expect(r.from ?? r.files, file).toBeDefined();
    }
  });

  test('the tiny llama Modelfile next to its GGUF points at the real file', async () => {
    const file = sharedModelfiles().find((f) => f.endsWith('ollama-api-data-llama-2-tiny-random.Modelfile')) as string;
    const ggufDir = sharedData('gguf', 'models');
    const r = await modelfileToRequest(parseModelfile(readFileSync(file)), { baseDir: ggufDir });
    expect(r).toEqual({
      files: [{ path: join(ggufDir, 'llama-2-tiny-random.gguf'), kind: 'file', written: 'llama-2-tiny-random.gguf' }],
      parameters: { seed: 42, top_p: 0.9, stop: ['foo', 'bar'] },
      warnings: [],
    });
  });
});

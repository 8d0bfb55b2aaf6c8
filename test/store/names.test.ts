import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  displayShortest,
  formatModelName,
  isValidModelName,
  modelNameFromParts,
  modelNameFromPathParts,
  modelNamesEqualFold,
  parseModelName,
} from '../../lib/store/names.js';
import { ModelStore } from '../../lib/store/store.js';

const full = (s: string) => {
  const n = parseModelName(s);
  return `${n.scheme}://${formatModelName(n)}`;
};

describe('model names', () => {
  it('fill in registry.ollama.ai / library / latest like ParseName', () => {
    expect(full('llama3.2')).toBe('https://registry.ollama.ai/library/llama3.2:latest');
    expect(full('llama3.2:1b')).toBe('https://registry.ollama.ai/library/llama3.2:1b');
    expect(full('jmorgan/x')).toBe('https://registry.ollama.ai/jmorgan/x:latest');
    expect(full('hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M')).toBe('https://hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M');
    expect(full('localhost:5000/ns/m:t')).toBe('https://localhost:5000/ns/m:t');
    expect(full('http://localhost:5000/ns/m')).toBe('http://localhost:5000/ns/m:latest');
    // Go's Merge fills an empty host after "scheme://" with the default.
    expect(full('https:///ns/m')).toBe('https://registry.ollama.ai/ns/m:latest');
    expect(full('_a/_b:_c')).toBe('https://registry.ollama.ai/_a/_b:_c');
  });

  it('keep the case as typed (paths are written as typed) and compare ignoring case', () => {
    const a = parseModelName('MyModel:Q4');
    expect(a.model).toBe('MyModel');
    expect(a.tag).toBe('Q4');
    expect(modelNamesEqualFold(a, parseModelName('mymodel:q4'))).toBe(true);
    expect(modelNamesEqualFold(a, parseModelName('mymodel:q5'))).toBe(false);
  });

  it('enforce part lengths: model, namespace, tag 1-80, host 1-350', () => {
    expect(isValidModelName('m'.repeat(80))).toBe(true);
    expect(isValidModelName('m'.repeat(81))).toBe(false);
    expect(isValidModelName(`m:${'t'.repeat(80)}`)).toBe(true);
    expect(isValidModelName(`m:${'t'.repeat(81)}`)).toBe(false);
    expect(isValidModelName(`${'n'.repeat(80)}/m`)).toBe(true);
    expect(isValidModelName(`${'n'.repeat(81)}/m`)).toBe(false);
    expect(isValidModelName(`${'h'.repeat(350)}/n/m`)).toBe(true);
    expect(isValidModelName(`${'h'.repeat(351)}/n/m`)).toBe(false);
  });

  it.each([
    ['', 'model is empty'],
    ['model:', 'tag is empty'],
    [':tag', 'model is empty'],
    ['/model', 'namespace is empty'],
    ['a//b', 'namespace is empty'],
    ['-model', 'must start with'],
    ['.hidden', 'must start with'],
    ['name.space/model', 'namespace "name.space" may only contain'],
    ['mo del', 'may only contain'],
    ['modèle', 'may only contain'],
    ['m:t:x', 'model "m:t" may only contain'],
    ['localhost:5000/model', 'namespace "localhost:5000"'],
    ['a/b/c/d', 'host "a/b" may only contain'],
    ['model@sha256:abc', '"@digest"'],
    ['model:t/x', 'may only contain'],
  ])('refuse %j with ERR_STORE_NAME (%s)', (input, reason) => {
    expect(isValidModelName(input)).toBe(false);
    expect(() => parseModelName(input)).toThrowError(expect.objectContaining({ code: 'ERR_STORE_NAME', model: input, message: expect.stringContaining(reason) }) as Error);
  });

  it.each([
    '../x',
    '../../etc/passwd',
    '..',
    '.',
    '/etc/passwd',
    'ns/../x',
    'x/..',
    'library/x:..',
    'ns/..:latest',
    '%2e%2e/x',
    '%2e%2e%2fetc',
    'x%2fy',
    'C:\\Windows\\x',
    'a\\b',
    '..\\x',
    '~/x',
    'x\0y',
    'registry.ollama.ai/../../../tmp/x',
    'host/ns/..%2f..%2fx',
  ])('refuse the path %j (traversal) with ERR_STORE_NAME', (input) => {
    expect(() => parseModelName(input)).toThrowError(expect.objectContaining({ code: 'ERR_STORE_NAME' }) as Error);
  });

  it('say "traversal is refused" for path-like input', () => {
    expect(() => parseModelName('../../etc/passwd')).toThrow(/traversal is refused/);
    expect(() => parseModelName('%2e%2e/x')).toThrow(/traversal is refused/);
  });

  it('display like DisplayShortest: default host and library dropped (case-insensitively), tag always shown', () => {
    expect(displayShortest(parseModelName('llama3.2'))).toBe('llama3.2:latest');
    expect(displayShortest(parseModelName('jmorgan/x'))).toBe('jmorgan/x:latest');
    expect(displayShortest(parseModelName('REGISTRY.OLLAMA.AI/Library/x:v1'))).toBe('x:v1');
    expect(displayShortest(parseModelName('hf.co/a/b:Q4_K_M'))).toBe('hf.co/a/b:Q4_K_M');
    expect(displayShortest(parseModelName('hf.co/library/b'))).toBe('hf.co/library/b:latest');
  });

  it('map to manifests/<host>/<namespace>/<model>/<tag> and back (exactly four valid parts)', () => {
    const store = new ModelStore('/srv/models');
    expect(store.manifestPath(parseModelName('llama3.2'))).toBe(join('/srv/models', 'manifests', 'registry.ollama.ai', 'library', 'llama3.2', 'latest'));
    expect(store.manifestPath(parseModelName('localhost:5000/ns/m:t'))).toBe(join('/srv/models', 'manifests', 'localhost:5000', 'ns', 'm', 't'));
    expect(modelNameFromPathParts(['registry.ollama.ai', 'library', 'x', 'latest'])?.model).toBe('x');
    expect(modelNameFromPathParts(['library', 'x', 'latest'])).toBeUndefined();
    expect(modelNameFromPathParts(['registry.ollama.ai', 'library', 'x', '.tmp-1'])).toBeUndefined();
    expect(modelNameFromPathParts(['registry.ollama.ai', 'lib.rary', 'x', 'latest'])).toBeUndefined();
  });

  it('built from parts are checked part by part, so a hand-made name cannot smuggle "../"', () => {
    const store = new ModelStore('/srv/models');
    const evil = { host: 'registry.ollama.ai', namespace: '..', model: '..', tag: 'passwd', scheme: 'https' };
    expect(() => store.manifestPath(evil)).toThrowError(expect.objectContaining({ code: 'ERR_STORE_NAME' }) as Error);
    expect(() => modelNameFromParts({ host: 'h', namespace: 'n', model: 'a/b', tag: 't' })).toThrowError(expect.objectContaining({ code: 'ERR_STORE_NAME' }) as Error);
  });
});

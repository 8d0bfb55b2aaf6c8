// create from a GGUF file: the manifest, blobs and config blob are byte for byte what Ollama (≤ v0.29,
// the generations that stored an imported GGUF as it is) writes for the same Modelfile. Expected bytes
// are written out here from the rules (research/ollama.md §2), not produced by the encoder under test.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { create, type CreateProgress } from '../../lib/create/create.js';
import { parametersText, showJson, showModel } from '../../lib/create/show.js';
import { parseModelfile } from '../../lib/modelfile/parse.js';
import { openStore } from '../../lib/store/store.js';
import { sharedData, sharedDataAvailable } from '../sharedData.js';
import { blobFiles, blobText, sha256, tempDir, TINY_DIGEST, TINY_DIR, TINY_GGUF, TINY_MODELFILE, TINY_SIZE, writeLoraAdapter, writeSmallModel } from './fixtures.js';

const MODEL = 'application/vnd.ollama.image.model';
const MANIFEST_HEAD = '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json",';

describe.skipIf(!sharedDataAvailable)('create FROM a GGUF file', () => {
  it("writes Ollama's manifest, params and config bytes for the tiny Llama and the Modelfile ollama kept beside it", async () => {
    const root = join(tempDir('tiny'), 'models');
    const events: CreateProgress[] = [];
    const result = await create('tiny', { modelfilePath: TINY_MODELFILE, baseDir: TINY_DIR, models: root, onProgress: (p) => events.push(p) });
    const store = await openStore(root);

    const params = '{"seed":42,"stop":["foo","bar"],"top_p":0.9}\n';
    const paramsDigest = sha256(params);
    const config =
      '{"model_format":"gguf","model_family":"llama","model_families":["llama"],"model_type":"513K","file_type":"F16",' +
      `"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["${TINY_DIGEST}","${paramsDigest}"]}}\n`;
    const modelBlob = join(root, 'blobs', `sha256-${TINY_DIGEST.slice(7)}`);
    const manifest =
      `${MANIFEST_HEAD}"digest":"${sha256(config)}","size":${Buffer.byteLength(config)}},"layers":[` +
      `{"mediaType":"${MODEL}","digest":"${TINY_DIGEST}","size":${TINY_SIZE},"from":${JSON.stringify(modelBlob)}},` +
      `{"mediaType":"application/vnd.ollama.image.params","digest":"${paramsDigest}","size":${Buffer.byteLength(params)}}]}\n`;

    const manifestPath = join(root, 'manifests', 'registry.ollama.ai', 'library', 'tiny', 'latest');
    expect(readFileSync(manifestPath, 'utf8')).toBe(manifest);
    expect(blobText(store, paramsDigest)).toBe(params);
    expect(blobText(store, sha256(config))).toBe(config);
    // The GGUF itself is the model blob: same bytes, so the file's sha256 is the layer digest.
    expect(sha256(readFileSync(modelBlob))).toBe(TINY_DIGEST);
    expect(blobFiles(store)).toEqual([`sha256-${TINY_DIGEST.slice(7)}`, `sha256-${paramsDigest.slice(7)}`, `sha256-${sha256(config).slice(7)}`].sort());
    expect(statSync(modelBlob).mode & 0o777).toBe(0o644);

    expect(result.model).toBe('tiny:latest');
    expect(result.digest).toBe(sha256(manifest).slice(7));
    expect(result.id).toBe(result.digest.slice(0, 12));
    expect(result.ggufs).toEqual([{ source: TINY_GGUF, mediaType: MODEL, digest: TINY_DIGEST, size: TINY_SIZE, method: 'copy' }]);
    expect(result.statuses).toEqual([
      `copying file ${TINY_DIGEST} 100%`,
      'parsing GGUF',
      `creating new layer ${TINY_DIGEST}`,
      `creating new layer ${paramsDigest}`,
      'writing manifest',
      'success',
    ]);
    const copying = events.filter((e) => e.status === 'copying file');
    expect(copying.at(-1)).toEqual({ status: 'copying file', total: TINY_SIZE, completed: TINY_SIZE });

    // The same create again reuses every blob and writes the same manifest.
    const again = await create('tiny', { modelfilePath: TINY_MODELFILE, baseDir: TINY_DIR, models: root });
    expect(again.digest).toBe(result.digest);
    expect(again.statuses.filter((s) => s.startsWith('using existing layer'))).toHaveLength(2);
    expect(again.removedBlobs).toEqual([]);
    expect((await store.verify()).ok).toBe(true);
  });

  it('keeps every layer kind in createModel order with raw text blobs and Go JSON for params and messages', async () => {
    const dir = tempDir('kinds');
    await writeLoraAdapter(join(dir, 'lora.gguf'));
    writeFileSync(
      join(dir, 'Modelfile'),
      [
        `FROM ${TINY_GGUF}`,
        'MESSAGE user Hi',
        'TEMPLATE """{{ .System }} <|user|>{{ .Prompt }}"""',
        'SYSTEM You are <helpful> & brief.',
        'PARAMETER temperature 0.7',
        'PARAMETER num_ctx 4096',
        'PARAMETER stop <|eot_id|>',
        'PARAMETER stop "<|end|>"',
        'PARAMETER top_p 1e-7',
        'LICENSE MIT',
        'LICENSE """Apache-2.0',
        'line 2"""',
        'MESSAGE assistant Hello & welcome',
        'ADAPTER ./lora.gguf',
        'REQUIRES 0.14',
        '',
      ].join('\n'),
    );
    const root = join(dir, 'models');
    const result = await create('me/kinds:v1', { modelfilePath: join(dir, 'Modelfile'), models: root });
    const store = await openStore(root);
    const kinds = result.layers.map((l) => l.mediaType.replace('application/vnd.ollama.image.', ''));
    expect(kinds).toEqual(['model', 'adapter', 'template', 'system', 'license', 'license', 'params', 'messages']);
    const text = result.layers.map((l) => (l.mediaType === MODEL || l.mediaType.endsWith('adapter') ? '' : blobText(store, l.digest)));
    expect(text.slice(2)).toEqual([
      '{{ .System }} <|user|>{{ .Prompt }}',
      'You are <helpful> & brief.',
      'MIT',
      'Apache-2.0\nline 2',
      // encoding/json trims the exponent's leading zero (1e-07 → 1e-7; fmt's %v would keep it).
      '{"num_ctx":4096,"stop":["\\u003c|eot_id|\\u003e","\\u003c|end|\\u003e"],"temperature":0.7,"top_p":1e-7}\n',
      '[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello \\u0026 welcome"}]\n',
    ]);
    const adapter = result.layers[1];
    expect(adapter?.from).toBe(store.blobPath(adapter?.digest as string));
    expect(adapter?.digest).toBe(sha256(readFileSync(join(dir, 'lora.gguf'))));
    // model_families counts model layers only; REQUIRES lands in the config.
    expect(blobText(store, result.configLayer.digest)).toBe(
      '{"model_format":"gguf","model_family":"llama","model_families":["llama"],"model_type":"513K","file_type":"F16","requires":"0.14",' +
        `"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[${result.layers.map((l) => `"${l.digest}"`).join(',')}]}}\n`,
    );
    expect(readFileSync(join(root, 'manifests', 'registry.ollama.ai', 'me', 'kinds', 'v1'), 'utf8').startsWith(MANIFEST_HEAD)).toBe(true);
  });

  it('shows what ollama show prints, and show --modelfile reads back into the same model', async () => {
    const root = join(tempDir('show'), 'models');
    const dir = tempDir('show-src');
    writeFileSync(join(dir, 'Modelfile'), `FROM ${TINY_GGUF}\nSYSTEM """Be brief.\nVery brief."""\nPARAMETER num_ctx 1000000\nPARAMETER stop <s>\nPARAMETER temperature 0.2\nLICENSE one\nMESSAGE user ping\n`);
    const first = await create('shown', { modelfilePath: join(dir, 'Modelfile'), models: root });
    const store = await openStore(root);
    const shown = await showModel(store, 'SHOWN'); // names match without case, as in Ollama
    expect([shown.architecture, shown.parameters, shown.contextLength, shown.embeddingLength, shown.quantization]).toEqual(['llama', '513K', 4096, 8, 'F16']);
    expect(shown.details).toEqual({ parentModel: store.blobPath(TINY_DIGEST), format: 'gguf', family: 'llama', families: ['llama'], parameterSize: '513K', quantizationLevel: 'F16' });
    expect(shown.modelInfo?.['general.parameter_count']).toBe(513048);
    expect(shown.modelInfo?.['llama.attention.layer_norm_rms_epsilon']).toBe(0.00001);
    expect(shown.modelInfo?.['tokenizer.ggml.tokens']).toBeNull(); // 32000 entries: left out, as Ollama's non-verbose show
    expect(shown.modelfile).toBe(
      '# Modelfile generated by "ollama show"\n# To build a new Modelfile based on this, replace FROM with:\n# FROM shown:latest\n\n' +
        `FROM ${store.blobPath(TINY_DIGEST)}\nTEMPLATE {{ .Prompt }}\nSYSTEM "Be brief.\nVery brief."\n` +
        'PARAMETER num_ctx 1000000\nPARAMETER stop <s>\nPARAMETER temperature 0.2\nLICENSE one\nMESSAGE user ping\n',
    );
    // Re-creating from the shown Modelfile gives the same layers, plus the default template Ollama prints.
    const copy = await create('copy', { modelfile: shown.modelfile, models: root });
    const withoutTemplate = copy.layers.filter((l) => !l.mediaType.endsWith('template'));
    expect(withoutTemplate.map((l) => l.digest)).toEqual(first.layers.map((l) => l.digest));
    expect(copy.statuses.filter((s) => s.startsWith('copying file'))).toEqual([`copying file ${TINY_DIGEST} 100%`]);
  });

  it.skipIf(!sharedDataAvailable)("prints /api/show's fields and parameters text as Ollama's llama3.1 dump has them", async () => {
    const fixture = JSON.parse(readFileSync(sharedData('ollama', 'api-show', 'llama3.1.latest.model.json'), 'utf8')) as Record<string, unknown>;
    // Rebuild that model's non-weight layers over the tiny GGUF from the dump's own Modelfile.
    const shownModelfile = parseModelfile(fixture.modelfile as string);
    const commands = shownModelfile.commands.map((c) => (c.command === 'FROM' ? { command: 'FROM' as const, value: TINY_GGUF } : c));
    const root = join(tempDir('api-show'), 'models');
    await create('llama3.1', { modelfile: { commands }, models: root });
    const store = await openStore(root);
    const shown = await showModel(store, 'llama3.1');
    const json = showJson(shown);
    for (const key of Object.keys(fixture)) expect(json, key).toHaveProperty(key);
    expect(Object.keys(json.details as object).sort()).toEqual(Object.keys(fixture.details as object).sort());
    expect(json.parameters).toBe(fixture.parameters);
    expect(json.template).toBe(fixture.template);
    expect(json.license).toBe(fixture.license);
    expect(parametersText(shown.options)).toBe(fixture.parameters);
    const name = (text: string) => text.replace(/^# FROM .*$/m, '# FROM <name>').replace(/^FROM \/.*$/m, 'FROM <blob>');
    expect(name(shown.modelfile)).toBe(name(fixture.modelfile as string));
  });

  it('refuses what it cannot import before copying anything', async () => {
    const dir = tempDir('refuse');
    const root = join(dir, 'models');
    writeFileSync(join(dir, 'notes.txt'), 'not a model');
    await expect(create('x', { from: join(dir, 'notes.txt'), models: root })).rejects.toMatchObject({ code: 'ERR_CREATE_SOURCE', message: expect.stringMatching(/not in GGUF format/) });
    await expect(create('x', { from: dir, models: root })).rejects.toMatchObject({ code: 'ERR_CREATE_SOURCE', message: expect.stringMatching(/config\.json/) });
    await writeLoraAdapter(join(dir, 'lora.gguf'));
    await expect(create('x', { from: join(dir, 'lora.gguf'), models: root })).rejects.toMatchObject({ code: 'ERR_CREATE_NO_MODEL' });
    await writeLoraAdapter(join(dir, 'gemma-lora.gguf'), { architecture: 'gemma' });
    await expect(create('x', { modelfile: `FROM ${TINY_GGUF}\nADAPTER ${join(dir, 'gemma-lora.gguf')}\n`, models: root })).rejects.toMatchObject({
      code: 'ERR_CREATE_ADAPTER',
      message: expect.stringMatching(/for llama models but .* is for gemma/),
    });
    await expect(create('x', { modelfile: `FROM ${TINY_GGUF}\nADAPTER ${TINY_GGUF}\n`, models: root })).rejects.toMatchObject({ code: 'ERR_CREATE_ADAPTER' });
    await expect(create('x', { modelfile: `FROM ${TINY_GGUF}\nPARAMETER temperature hot\n`, models: root })).rejects.toMatchObject({ code: 'ERR_MODELFILE_PARAMETER', line: 2 });
    await expect(create('x', { modelfile: `FROM ${TINY_GGUF}\nADAPTER ${join(dir, 'missing.gguf')}\n`, models: root })).rejects.toMatchObject({ code: 'ERR_MODELFILE_PATH' });
    await expect(create('x', { models: root })).rejects.toMatchObject({ code: 'ERR_CREATE_NO_MODELFILE' });
    expect(blobFiles(await openStore(root))).toEqual([]);
  });

  it('says so when the GGUF carries a chat template and the Modelfile has no TEMPLATE', async () => {
    const dir = tempDir('chat');
    await writeSmallModel(join(dir, 'chat.gguf'), { chatTemplate: "{% for m in messages %}{{ m['content'] }}{% endfor %}" });
    const warnings: string[] = [];
    const root = join(dir, 'models');
    const result = await create('chat', { from: join(dir, 'chat.gguf'), models: root, onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual([expect.stringMatching(/tokenizer\.chat_template \(53 characters\).*no TEMPLATE/)]);
    expect(result.warnings).toEqual(warnings);
    // F32 files read as "unknown" in Ollama's config (its FileType() treats general.file_type 0 so).
    expect(result.config.fileType).toBe('unknown');
    const withTemplate = await create('chat', { modelfile: `FROM ${join(dir, 'chat.gguf')}\nTEMPLATE {{ .Prompt }}\n`, models: root });
    expect(withTemplate.warnings).toEqual([]);
  });

  it('takes a projector FROM beside the model and a DRAFT after the adapters, as HEAD Ollama lays them out', async () => {
    const dir = tempDir('projector');
    await writeSmallModel(join(dir, 'mmproj.gguf'), { architecture: 'clip', kind: 'mmproj' });
    await writeSmallModel(join(dir, 'draft.gguf'), { seed: 9 });
    await writeLoraAdapter(join(dir, 'lora.gguf'));
    const root = join(dir, 'models');
    // Files are taken in path order, as Ollama sorts its file keys.
    const result = await create('vision', { modelfile: `FROM ${TINY_GGUF}\nFROM ./mmproj.gguf\nDRAFT ./draft.gguf\nADAPTER ./lora.gguf\n`, baseDir: dir, models: root });
    const expected = [`${dir}/mmproj.gguf`, TINY_GGUF].sort().map((p) => (p === TINY_GGUF ? 'model' : 'projector'));
    expect(result.layers.map((l) => l.mediaType.replace('application/vnd.ollama.image.', ''))).toEqual([...expected, 'adapter', 'draft']);
    expect(result.config).toMatchObject({ modelFamily: 'llama', modelFamilies: ['llama'], draft: { modelFormat: 'gguf', architecture: 'llama' } });
    const store = await openStore(root);
    expect(blobText(store, result.configLayer.digest)).toMatch(/"file_type":"F16","draft":\{"model_format":"gguf","architecture":"llama"\},"architecture":"amd64"/);
    const shown = await showModel(store, 'vision');
    expect(shown.modelfile).toMatch(new RegExp(`\\nFROM ${store.blobPath(TINY_DIGEST)}\\nADAPTER .*\\nDRAFT .*\\nFROM .*\\nTEMPLATE `));
  });

  it('imports with --link as a hard link on the same file system (no copy), the digest still checked', async () => {
    const dir = tempDir('link');
    await writeSmallModel(join(dir, 'm.gguf'), { seed: 3 });
    const root = join(dir, 'models');
    const result = await create('linked', { from: join(dir, 'm.gguf'), models: root, link: true });
    const gguf = result.ggufs[0];
    expect(gguf?.method === 'hardlink' || gguf?.method === 'reflink').toBe(true);
    expect(gguf?.digest).toBe(sha256(readFileSync(join(dir, 'm.gguf'))));
    if (gguf?.method === 'hardlink') expect(statSync(join(dir, 'm.gguf')).ino).toBe(statSync((await openStore(root)).blobPath(gguf.digest)).ino);
    expect(result.statuses[0]).toBe(`linking file ${gguf?.digest} 100%`);
  });
});

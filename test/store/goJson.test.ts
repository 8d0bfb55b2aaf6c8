// Expected bytes below are written out by hand from Go's encoding/json rules (research/ollama.md
// §2.5, encode.go): compact, keys sorted bytewise, structs in field order, HTML-safe escapes,
// shortest floats with 'e' form only below 1e-6 or from 1e21 and "e-07" cleaned to "e-7".
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeConfigBlob,
  decodeMessagesBlob,
  decodeParamsBlob,
  encodeConfigBlob,
  encodeMessagesBlob,
  encodeParamsBlob,
} from '../../lib/store/configBlob.js';
import { StoreError } from '../../lib/store/errors.js';
import { goFloatText } from '../../lib/store/goFloat.js';
import { compareUtf8, encodeGoJson, GoRawString, goFloat32, goStruct, marshalGoJson, type GoJsonValue } from '../../lib/store/goJson.js';
import { encodeManifest } from '../../lib/store/manifest.js';

const text = (b: Buffer) => b.toString('utf8');

describe('map keys', () => {
  it('are sorted bytewise, whatever order the object was built in', () => {
    expect(text(encodeGoJson({ top_k: 40n, temperature: goFloat32(0.7), stop: ['a'], num_ctx: 4096n }))).toBe(
      '{"num_ctx":4096,"stop":["a"],"temperature":0.7,"top_k":40}\n',
    );
    expect(marshalGoJson(new Map<string, GoJsonValue>([['b', 1], ['a', 2], ['B', 3], ['_', 4]]))).toBe('{"B":3,"_":4,"a":2,"b":1}');
  });

  it('sort in UTF-8 order: U+E000 before U+1F600 although its UTF-16 unit is larger', () => {
    // UTF-16 units: 0xD83D (😀) < 0xE000, so JS's default sort would put 😀 first; Go compares bytes: EE 80 80 < F0 9F 98 80.
    expect(marshalGoJson({ '😀': 1, '\ue000': 2, é: 3, z: 4 })).toBe('{"z":4,"é":3,"\ue000":2,"😀":1}');
    expect(['😀', '\ue000'].sort(compareUtf8)).toEqual(['\ue000', '😀']);
  });

  it('members set to undefined are absent; nested maps are sorted too', () => {
    expect(marshalGoJson({ b: { y: 1, x: [true, false, null] }, a: undefined })).toBe('{"b":{"x":[true,false,null],"y":1}}');
  });
});

describe('strings', () => {
  it('escape < > & as \\u003c \\u003e \\u0026 (the <|eot_id|> stop tokens of a llama3 params blob)', () => {
    const params = { stop: ['<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>'] };
    expect(text(encodeParamsBlob(params))).toBe('{"stop":["\\u003c|start_header_id|\\u003e","\\u003c|end_header_id|\\u003e","\\u003c|eot_id|\\u003e"]}\n');
    expect(marshalGoJson('a && b')).toBe('"a \\u0026\\u0026 b"');
  });

  it('use \\b \\f \\n \\r \\t, \\u00XX (lower-case hex) for other controls, and leave DEL raw', () => {
    expect(marshalGoJson('\b\f\n\r\t\u0000\u0001\u001f\u007f"\\/')).toBe('"\\b\\f\\n\\r\\t\\u0000\\u0001\\u001f\u007f\\"\\\\/"');
  });

  it('keep non-ASCII raw except U+2028/U+2029; a lone surrogate becomes \\ufffd', () => {
    expect(marshalGoJson('héllo 世界 😀 \ufffd')).toBe('"héllo 世界 😀 \ufffd"');
    expect(marshalGoJson('a\u2028b\u2029c')).toBe('"a\\u2028b\\u2029c"');
    expect(marshalGoJson('x\ud800y\udc00z')).toBe('"x\\ufffdy\\ufffdz"');
    expect(encodeGoJson('é').equals(Buffer.from([0x22, 0xc3, 0xa9, 0x22, 0x0a]))).toBe(true);
  });

  it('given as raw bytes, decode like utf8.DecodeRune: each invalid byte is one \\ufffd', () => {
    const raw = (...bytes: number[]) => marshalGoJson(new GoRawString(Uint8Array.from(bytes)));
    expect(raw(0x61, 0xff, 0x62)).toBe('"a\\ufffdb"');
    expect(raw(0xc0, 0x80)).toBe('"\\ufffd\\ufffd"'); // overlong NUL
    expect(raw(0xed, 0xa0, 0x80)).toBe('"\\ufffd\\ufffd\\ufffd"'); // an encoded surrogate
    expect(raw(0xf4, 0x90, 0x80, 0x80)).toBe('"\\ufffd\\ufffd\\ufffd\\ufffd"'); // above U+10FFFF
    expect(raw(0xe4, 0xb8)).toBe('"\\ufffd\\ufffd"'); // truncated at the end
    expect(raw(0xef, 0xbf, 0xbd)).toBe('"\ufffd"'); // a real U+FFFD stays raw
    expect(raw(0xe2, 0x80, 0xa8, 0x3c)).toBe('"\\u2028\\u003c"');
    expect(raw(0xe4, 0xb8, 0x96, 0xf0, 0x9f, 0x98, 0x80)).toBe('"世😀"');
  });
});

describe('numbers', () => {
  it('float32 values print their shortest float32 decimal', () => {
    const f32 = (x: number) => marshalGoJson(goFloat32(x));
    expect(f32(0.7)).toBe('0.7'); // float64(float32(0.7)) is 0.699999988079071
    expect(f32(0.1)).toBe('0.1');
    expect(f32(1.1)).toBe('1.1');
    expect(f32(0.95)).toBe('0.95');
    expect(f32(123456789)).toBe('123456790'); // float32 holds 123456792; 8 digits suffice, 'f' form pads with a zero
    expect(f32(16777217)).toBe('16777216');
    expect(f32(3.4028234663852886e38)).toBe('3.4028235e+38');
    expect(f32(1.401298464324817e-45)).toBe('1e-45'); // smallest subnormal
    expect(f32(1.1754943508222875e-38)).toBe('1.1754944e-38');
    // 2^-96: the gap below a power of two is half the gap above. 1.2621775e-29 lies within the upper
    // half-gap; 1.2621774e-29 (what toPrecision(8) gives) lies outside the lower one.
    expect(f32(2 ** -96)).toBe('1.2621775e-29');
  });

  it('the exponent form starts below 1e-6 and at 1e21, compared in the value\'s own width, with e-07 cleaned to e-7', () => {
    expect(marshalGoJson(goFloat32(1e-7))).toBe('1e-7');
    expect(marshalGoJson(1e-7)).toBe('1e-7');
    expect(marshalGoJson(1e-6)).toBe('0.000001');
    expect(marshalGoJson(9.99e-7)).toBe('9.99e-7');
    // float32(1e-6) is 9.99999997e-7 in float64 terms, but Go compares float32(abs) < float32(1e-6): not below.
    expect(marshalGoJson(goFloat32(1e-6))).toBe('0.000001');
    expect(marshalGoJson(1e21)).toBe('1e+21');
    expect(marshalGoJson(goFloat32(1e21))).toBe('1e+21');
    expect(marshalGoJson(1e20)).toBe('100000000000000000000');
    expect(marshalGoJson(1.5e300)).toBe('1.5e+300');
    expect(marshalGoJson(5e-324)).toBe('5e-324');
    expect(marshalGoJson(1.23e-18)).toBe('1.23e-18');
    expect(marshalGoJson(-2.5e-8)).toBe('-2.5e-8');
  });

  it('integers print as integers; float64 integers too; -0 is "-0"', () => {
    expect(marshalGoJson(4096n)).toBe('4096');
    expect(marshalGoJson(-(2n ** 63n))).toBe('-9223372036854775808');
    expect(marshalGoJson(2n ** 64n - 1n)).toBe('18446744073709551615');
    expect(marshalGoJson(9007199254740993n)).toBe('9007199254740993');
    expect(marshalGoJson(4920734016)).toBe('4920734016');
    expect(marshalGoJson(0.5)).toBe('0.5');
    expect(marshalGoJson(-0)).toBe('-0');
    expect(goFloatText(-0, 32)).toBe('-0');
  });

  it('NaN, infinities and integers beyond 64 bits are refused with ERR_STORE_JSON', () => {
    for (const bad of [Number.NaN, Infinity, -Infinity, goFloat32(Infinity), 2n ** 64n, -(2n ** 63n) - 1n]) {
      expect(() => marshalGoJson(bad as GoJsonValue), String(bad)).toThrowError(expect.objectContaining({ code: 'ERR_STORE_JSON' }) as Error);
    }
    expect(() => marshalGoJson([undefined] as unknown as GoJsonValue)).toThrow(StoreError);
    expect(() => marshalGoJson(new Uint8Array(2) as unknown as GoJsonValue)).toThrow(/typed arrays/);
  });

  it('every float32 prints a decimal that reads back as itself, never longer than the toPrecision search', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const out = goFloatText(x, 32);
        expect(Object.is(Math.fround(Number(out)), Math.fround(x)) || (x === 0 && Number(out) === 0)).toBe(true);
        let naive = '';
        for (let p = 1; p <= 9 && naive === ''; p++) if (Math.fround(Number(x.toPrecision(p))) === Math.fround(x)) naive = Math.fround(x).toPrecision(p);
        const digits = (s: string) => s.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length;
        if (x !== 0) expect(digits(out)).toBeLessThanOrEqual(digits(naive));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('structs', () => {
  it('keep field order; omitempty drops "", 0, false, nil, empty slices and maps, never a struct', () => {
    const s = goStruct([
      { name: 'z', value: 'first' },
      { name: 'a', value: '' },
      { name: 'e1', value: '', omitEmpty: true },
      { name: 'e2', value: 0n, omitEmpty: true },
      { name: 'e3', value: false, omitEmpty: true },
      { name: 'e4', value: [], omitEmpty: true },
      { name: 'e5', value: {}, omitEmpty: true },
      { name: 'e6', value: undefined, omitEmpty: true },
      { name: 'e7', value: goFloat32(0), omitEmpty: true },
      { name: 'nil', value: undefined },
      { name: 'inner', value: goStruct([{ name: 'x', value: '', omitEmpty: true }]), omitEmpty: true },
      { name: 'm', value: { b: 1n, a: 2n } },
    ]);
    expect(marshalGoJson(s)).toBe('{"z":"first","a":"","nil":null,"inner":{},"m":{"a":2,"b":1}}');
  });

  it('Encode adds the newline Marshal does not', () => {
    expect(text(encodeGoJson({ a: 1n }))).toBe('{"a":1}\n');
    expect(marshalGoJson({ a: 1n })).toBe('{"a":1}');
  });

  it('agree with JSON.stringify on plain data once keys are sorted and <, >, &, U+2028/9 escaped', () => {
    const key = fc.string({ unit: 'binary', maxLength: 6 });
    const leaf = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.boolean(), fc.constant(null), fc.integer());
    const tree = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(key, tie('node'), { maxKeys: 4 })),
    })).node;
    const sortKeys = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(sortKeys)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).sort((a, b) => compareUtf8(a[0], b[0])).map(([k, x]) => [k, sortKeys(x)]))
          : v;
    fc.assert(
      fc.property(tree, (value) => {
        // Integer-like keys would be reordered by JS objects themselves; the comparison needs insertion order.
        const json = JSON.stringify(sortKeys(value), (_k, v: unknown) => v);
        if (/"\d+":/.test(json)) return;
        const expected = json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
        expect(marshalGoJson(value as GoJsonValue)).toBe(expected);
      }),
      { numRuns: 400 },
    );
  });
});

describe('Ollama blobs', () => {
  it('config blob: ConfigV2 field order, constants amd64/linux, omitempty fields left out (HEAD example)', () => {
    const config = { modelFormat: 'gguf', modelFamily: 'llama', modelFamilies: ['llama'], modelType: '8.0B', fileType: 'Q4_K_M' };
    expect(text(encodeConfigBlob(config))).toBe(
      '{"model_format":"gguf","model_family":"llama","model_families":["llama"],"model_type":"8.0B","file_type":"Q4_K_M","architecture":"amd64","os":"linux"}\n',
    );
  });

  it('config blob: every optional field in struct order, nil families as null, rootfs for pre-0.32.7 stores', () => {
    const blob = encodeConfigBlob({
      modelFormat: 'gguf',
      modelFamily: 'gemma4',
      modelFamilies: null,
      modelType: '1.0B',
      fileType: 'F16',
      renderer: 'gemma4',
      parser: 'gemma4',
      requires: '0.14.0',
      remoteHost: 'https://ollama.com:443',
      remoteModel: 'gpt-oss:20b',
      capabilities: ['completion', 'tools'],
      contextLength: 131072,
      embeddingLength: 0,
      baseName: 'Gemma <4>',
      draft: {},
      rootfs: { diffIds: ['sha256:aa', 'sha256:bb'] },
    });
    expect(text(blob)).toBe(
      '{"model_format":"gguf","model_family":"gemma4","model_families":null,"model_type":"1.0B","file_type":"F16",' +
        '"renderer":"gemma4","parser":"gemma4","requires":"0.14.0","remote_host":"https://ollama.com:443","remote_model":"gpt-oss:20b",' +
        '"capabilities":["completion","tools"],"context_length":131072,"base_name":"Gemma \\u003c4\\u003e","draft":{},' +
        '"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:aa","sha256:bb"]}}\n',
    );
  });

  it('config blob: decoding and encoding again gives the same bytes, old rootfs generation included', () => {
    const blobs = [
      '{"model_format":"gguf","model_family":"llama","model_families":["llama"],"model_type":"8.0B","file_type":"Q4_K_M","architecture":"amd64","os":"linux"}\n',
      '{"model_format":"gguf","model_family":"gemma4","model_families":null,"model_type":"1.0B","file_type":"F16","renderer":"gemma4","capabilities":["vision"],"context_length":8192,"draft":{"architecture":"llama"},"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:aa"]}}\n',
    ];
    for (const blob of blobs) expect(text(encodeConfigBlob(decodeConfigBlob(Buffer.from(blob))))).toBe(blob);
  });

  it('params blob: float32 options, int64 options, bools and stop lists; inherited float64 values re-encode unchanged', () => {
    const params = { temperature: goFloat32(0.7), top_p: goFloat32(0.9), num_ctx: 4096n, use_mmap: true, stop: ['<|eot_id|>', 'User:'], seed: -1n };
    const blob = encodeParamsBlob(params);
    expect(text(blob)).toBe('{"num_ctx":4096,"seed":-1,"stop":["\\u003c|eot_id|\\u003e","User:"],"temperature":0.7,"top_p":0.9,"use_mmap":true}\n');
    // Go decodes an old blob into map[string]any (float64 everywhere) and writes it back: same bytes.
    expect(encodeParamsBlob(decodeParamsBlob(blob)).equals(blob)).toBe(true);
  });

  it('messages blob: role then content, HTML-escaped', () => {
    const blob = encodeMessagesBlob([
      { role: 'user', content: 'Is 1 < 2 && 3 > 2?' },
      { role: 'assistant', content: 'yes\n' },
    ]);
    expect(text(blob)).toBe('[{"role":"user","content":"Is 1 \\u003c 2 \\u0026\\u0026 3 \\u003e 2?"},{"role":"assistant","content":"yes\\n"}]\n');
    expect(decodeMessagesBlob(blob)).toEqual([
      { role: 'user', content: 'Is 1 < 2 && 3 > 2?' },
      { role: 'assistant', content: 'yes\n' },
    ]);
  });

  it('manifest: schemaVersion, Docker media type, config, layers with from/name only when set', () => {
    const d = (c: string) => `sha256:${c.repeat(64)}`;
    const bytes = encodeManifest({ mediaType: 'application/vnd.docker.container.image.v1+json', digest: d('c'), size: 485 }, [
      { mediaType: 'application/vnd.ollama.image.model', digest: d('a'), size: 4920734016, from: 'llama3.2:latest' },
      { mediaType: 'application/vnd.ollama.image.template', digest: d('b'), size: 1429 },
    ]);
    expect(text(bytes)).toBe(
      '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",' +
        `"config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"${d('c')}","size":485},` +
        `"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"${d('a')}","size":4920734016,"from":"llama3.2:latest"},` +
        `{"mediaType":"application/vnd.ollama.image.template","digest":"${d('b')}","size":1429}]}\n`,
    );
  });
});

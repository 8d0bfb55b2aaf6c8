// Printing like `ollama show --modelfile`, byte for byte on real show output, and reading back what was
// printed: parse(format(m)) equals m for every m the parser can produce (fast-check, bounded runs).
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ModelfileError, formatModelfile, modelfileForShow, parseModelfile, scanModelfile } from '../../lib/modelfile/index.js';
import type { ModelfileCommand } from '../../lib/modelfile/index.js';
import { haveModelfiles, sharedModelfiles } from './ollamaCases.js';

// Deterministic by default; MODELFILE_FC_SEED / MODELFILE_FC_SCALE explore other cases (e.g. SCALE=50).
const FC_SEED = Number(process.env.MODELFILE_FC_SEED ?? 0x5eed);
const FC_SCALE = Number(process.env.MODELFILE_FC_SCALE ?? 1);
const runs = (n: number) => ({ numRuns: Math.round(n * FC_SCALE), seed: FC_SEED });

const roundTrip = (commands: ModelfileCommand[]) => scanModelfile(formatModelfile(commands));

describe.skipIf(!haveModelfiles)('real Modelfiles', () => {
  test('`ollama show --modelfile` output is reproduced byte for byte from its own commands', () => {
    const shown = sharedModelfiles().filter((f) => f.includes('/ollama-show/') && !f.includes('vision')); // vision: CRLF re-encoded by git
    expect(shown).toHaveLength(5);
    for (const file of shown) {
      const text = readFileSync(file, 'utf8');
      const name = basename(file, '.Modelfile').replace(/\.latest$/, ':latest');
      expect(formatModelfile(parseModelfile(text), { generatedFrom: name }), file).toBe(text);
    }
  });

  test('every shared Modelfile reads back as itself after formatting', () => {
    for (const file of sharedModelfiles()) {
      const m = parseModelfile(readFileSync(file), { filename: file });
      expect(parseModelfile(formatModelfile(m), { filename: file }), file).toEqual(m);
    }
  });
});

test("Ollama's TestParseFileFormatParseFile cases", () => {
  const cases = [
    '\nFROM foo\nADAPTER adapter1\nLICENSE MIT\nPARAMETER param1 value1\nPARAMETER param2 value2\nTEMPLATE template1\nMESSAGE system You are a file parser. Always parse things.\nMESSAGE user Hey there!\nMESSAGE assistant Hello, I want to parse all the things!\n',
    '\nFROM foo\nADAPTER adapter1\nLICENSE """\nVery long and boring legal text.\nBlah blah blah.\n"Oh look, a quote!"\n"""\n\nPARAMETER param1 value1\nPARAMETER param2 value2\nTEMPLATE template1\nMESSAGE system """\nYou are a store greeter. Always respond with "Hello!".\n"""\nMESSAGE user Hey there!\n',
    '\nFROM foo\nSYSTEM ""\n',
  ];
  for (const text of cases) {
    const m = parseModelfile(text);
    expect(parseModelfile(formatModelfile(m))).toEqual(m);
  }
  expect(formatModelfile(parseModelfile(cases[1] as string))).toBe(
    'FROM foo\nADAPTER adapter1\nLICENSE """\nVery long and boring legal text.\nBlah blah blah.\n"Oh look, a quote!"\n"""\nPARAMETER param1 value1\nPARAMETER param2 value2\nTEMPLATE template1\nMESSAGE system """\nYou are a store greeter. Always respond with "Hello!".\n"""\nMESSAGE user Hey there!\n',
  );
});

describe('values Ollama would print so that they read back changed', () => {
  const cases: Array<[ModelfileCommand, string, string]> = [
    // [command, Ollama's line (strict: false), the line printed instead]
    [{ command: 'SYSTEM', value: '\tindented' }, 'SYSTEM \tindented', 'SYSTEM "\tindented"'],
    [{ command: 'FROM', value: '  spaced name' }, 'FROM   spaced name', 'FROM "  spaced name"'],
    [{ command: 'FROM', value: 'a\nb' }, 'FROM a\nb', 'FROM "a\nb"'],
    [{ command: 'SYSTEM', value: 'a\rb' }, 'SYSTEM a\rb', 'SYSTEM "a\rb"'],
    [{ command: 'SYSTEM', value: '"quoted" start' }, 'SYSTEM "quoted" start', 'SYSTEM ""quoted" start"'],
    [{ command: 'SYSTEM', value: '"' }, 'SYSTEM "', 'SYSTEM """""""'],
    [{ command: 'SYSTEM', value: 'trailing tab\t' }, 'SYSTEM trailing tab\t', 'SYSTEM "trailing tab\t"'],
    [{ command: 'PARAMETER', name: 'stop', value: '"<s>"' }, 'PARAMETER stop "<s>"', 'PARAMETER stop ""<s>""'],
    [{ command: 'MESSAGE', role: 'user', content: 'line\n' }, 'MESSAGE user "line\n"', 'MESSAGE user "line\n"'],
  ];
  test.each(cases)('%j', (command, ollama, ours) => {
    expect(formatModelfile([command], { strict: false })).toBe(`${ollama}\n`);
    expect(formatModelfile([command])).toBe(`${ours}\n`);
    expect(roundTrip([command])).toEqual([command]);
  });

  test('a value no spelling can carry is refused, not printed wrong', () => {
    const impossible: ModelfileCommand[] = [
      { command: 'SYSTEM', value: 'nul\u0000inside' },
      { command: 'SYSTEM', value: 'a"""\nb' },
      { command: 'MESSAGE', role: 'tool', content: 'x' },
      { command: 'PARAMETER', name: 'top-k', value: '1' },
    ];
    for (const command of impossible) {
      const err = (() => {
        try {
          formatModelfile([command]);
        } catch (e) {
          return e;
        }
      })();
      expect(err, JSON.stringify(command)).toBeInstanceOf(ModelfileError);
      expect((err as ModelfileError).code).toBe('ERR_MODELFILE_UNREPRESENTABLE');
    }
    // Lax mode prints them anyway, as `ollama show` does for a message role the API accepted.
    expect(formatModelfile([{ command: 'MESSAGE', role: 'tool', content: 'x' }], { strict: false })).toBe('MESSAGE tool x\n');
  });
});

test('modelfileForShow orders commands as `ollama show` does and prints numbers with %v', () => {
  const m = modelfileForShow({
    modelPath: '/models/blobs/sha256-aa',
    adapterPaths: ['/models/blobs/sha256-bb'],
    projectorPaths: ['/models/blobs/sha256-cc'],
    system: 'You are terse.',
    parameters: { temperature: 0.7, num_ctx: 1000000, stop: ['<|eot_id|>', '</s>'], repeat_penalty: 1500000, mirostat: 0, seed: 2n ** 62n },
    license: ['MIT', 'Apache\nLicense'],
    messages: [{ role: 'user', content: 'hi' }],
  });
  expect(formatModelfile(m, { generatedFrom: 'demo:latest' })).toBe(
    [
      '# Modelfile generated by "ollama show"',
      '# To build a new Modelfile based on this, replace FROM with:',
      '# FROM demo:latest',
      '',
      'FROM /models/blobs/sha256-aa',
      'ADAPTER /models/blobs/sha256-bb',
      'FROM /models/blobs/sha256-cc',
      'TEMPLATE {{ .Prompt }}',
      'SYSTEM You are terse.',
      'PARAMETER temperature 0.7',
      // Ollama prints 1e+06 here, which its parser then rejects as an int; we print the integer.
      'PARAMETER num_ctx 1000000',
      'PARAMETER stop <|eot_id|>',
      'PARAMETER stop </s>',
      'PARAMETER repeat_penalty 1.5e+06',
      'PARAMETER mirostat 0',
      'PARAMETER seed 4611686018427387904',
      'LICENSE MIT',
      'LICENSE "Apache\nLicense"',
      'MESSAGE user hi',
      '',
    ].join('\n'),
  );
  expect(() => modelfileForShow({ modelPath: '/m', parameters: { odd: { nested: 1 } } })).toThrow(TypeError);
});

describe('properties', () => {
  // Pieces that exercise every rule: quotes, blanks, CR/LF, comments, command words in any case,
  // non-printables the parser drops, multi-byte text.
  const piece = fc.constantFrom('a', 'b c', '"', '""', '"""', ' ', '  ', '\t', '\n', '\r\n', '\r', '#', ':', '_', '-', 'é', '你好', '👋', '\u0000', '\u200b', '\u00a0', '{{ .Prompt }}', '<|eot_id|>');
  const valueText = fc.array(piece, { maxLength: 12 }).map((parts) => parts.join(''));
  const keyword = fc.constantFrom('FROM', 'from', 'ADAPTER', 'DRAFT', 'TEMPLATE', 'System', 'LICENSE', 'RENDERER', 'PARSER', 'REQUIRES');
  const line = fc.oneof(
    fc.tuple(keyword, fc.constantFrom(' ', '\t', '  '), valueText).map(([k, sep, v]) => `${k}${sep}${v}`),
    fc.tuple(fc.constantFrom('PARAMETER', 'parameter'), fc.constantFrom('stop', 'seed', 'temperature', 'x_1', ''), valueText).map(([k, n, v]) => `${k} ${n} ${v}`),
    fc.tuple(fc.constantFrom('system', 'user', 'assistant', 'tool'), valueText).map(([role, v]) => `MESSAGE ${role} ${v}`),
    valueText.map((v) => `# ${v}`),
    fc.constantFrom('', '   ', 'FROM', 'BAD x'),
  );
  const modelfileText = fc
    .tuple(fc.array(line, { maxLength: 8 }), fc.constantFrom('\n', '\r\n', '\r'), fc.boolean())
    .map(([lines, eol, bom]) => `${bom ? '\uFEFF' : ''}FROM base${eol}${lines.join(eol)}`);

  test('any text either parses or fails with a ModelfileError; what parses prints and reads back unchanged', () => {
    let parsed = 0;
    fc.assert(
      fc.property(modelfileText, (text) => {
        let m;
        try {
          m = parseModelfile(text);
        } catch (err) {
          expect(err).toBeInstanceOf(ModelfileError);
          return;
        }
        parsed++;
        expect(parseModelfile(formatModelfile(m))).toEqual(m);
        // Once printed, printing again changes nothing.
        expect(formatModelfile(parseModelfile(formatModelfile(m)))).toBe(formatModelfile(m));
      }),
      runs(600),
    );
    expect(parsed).toBeGreaterThan(100); // the generator must reach the interesting cases
  });

  test('any command list either prints faithfully or is refused as unrepresentable', () => {
    const anyText = fc.oneof(valueText, fc.string({ unit: 'grapheme', maxLength: 20 }));
    const command: fc.Arbitrary<ModelfileCommand> = fc.oneof(
      fc.tuple(fc.constantFrom('FROM', 'ADAPTER', 'DRAFT', 'TEMPLATE', 'SYSTEM', 'LICENSE', 'RENDERER', 'PARSER', 'REQUIRES' as const), anyText).map(([c, value]) => ({ command: c, value })),
      fc.tuple(fc.constantFrom('stop', 'seed', '', 'bad-name'), anyText).map(([name, value]) => ({ command: 'PARAMETER' as const, name, value })),
      fc.tuple(fc.constantFrom('system', 'user', 'assistant', 'tool'), anyText).map(([role, content]) => ({ command: 'MESSAGE' as const, role, content })),
    );
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 6 }), (commands) => {
        const all: ModelfileCommand[] = [{ command: 'FROM', value: 'base' }, ...commands];
        let text: string;
        try {
          text = formatModelfile(all);
        } catch (err) {
          expect((err as ModelfileError).code).toBe('ERR_MODELFILE_UNREPRESENTABLE');
          return;
        }
        expect(parseModelfile(text).commands).toEqual(all);
      }),
      runs(400),
    );
  });
});

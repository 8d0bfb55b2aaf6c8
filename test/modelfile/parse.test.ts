// The Modelfile reader accepts what Ollama's parser accepts and reads the same values: Ollama's own
// parser_test.go expectations, the real Modelfiles in shared data, BOM, CRLF, UTF-16 and positions.
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { describe, expect, test } from 'vitest';
import { commandPosition, parseModelfile } from '../../lib/modelfile/index.js';
import { fromOllama, haveModelfiles, sharedModelfiles } from './ollamaCases.js';

const commandsOf = (text: string | Uint8Array) => parseModelfile(text).commands;

describe.skipIf(!haveModelfiles)('real Modelfiles', () => {
  const files = sharedModelfiles();

  test('every Modelfile in shared data parses, with a FROM and a value for every command', () => {
    expect(files.length).toBeGreaterThanOrEqual(19);
    for (const file of files) {
      const m = parseModelfile(readFileSync(file), { filename: file });
      expect(m.commands.some((c) => c.command === 'FROM'), file).toBe(true);
      expect(m.baseDir).toBe(dirname(file));
    }
  });

  test('values come out as Ollama reads them', () => {
    const read = (name: string) => parseModelfile(readFileSync(files.find((f) => basename(f) === name) as string)).commands;
    expect(read('ollama-api-data-llama-2-tiny-random.Modelfile')).toEqual(
      fromOllama([['model', 'llama-2-tiny-random.gguf'], ['seed', '42'], ['top_p', '0.9'], ['stop', 'foo'], ['stop', 'bar']]),
    );
    // Lower-case commands, an empty triple-quoted block holding only line breaks.
    expect(read('0rfboy-ollama13b.Modelfile')).toEqual(
      fromOllama([['model', 'llama3.2:1b'], ['system', '\n\n'], ['temperature', '0.5'], ['top_p', '0.9'], ['num_ctx', '16384']]),
    );
    // `#` inside a quoted value is text; the comment lines around it are not.
    const json = read('json.Modelfile');
    expect(json).toHaveLength(2);
    expect(json[1]).toMatchObject({ command: 'PARAMETER', name: 'grammar' });
    expect((json[1] as { value: string }).value).toContain('# escapes\n');
    expect((json[1] as { value: string }).value.startsWith('\nroot   ::= object\n')).toBe(true);
    // Two FROM lines, CRLF line ends, a "..." TEMPLATE over several lines keeps its CRs.
    const vision = read('x.llama3.2-vision.latest.Modelfile');
    expect(vision.map((c) => c.command)).toEqual(['FROM', 'FROM', 'TEMPLATE', 'PARAMETER', 'PARAMETER']);
    expect((vision[2] as { value: string }).value).toBe(
      '{{- range $i, $_ := .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\r\n\r\n{{ .Content }}<|eot_id|>\r\n{{- end }}<|start_header_id|>assistant<|end_header_id|>\r\n\r\n',
    );
    expect(vision[4]).toEqual({ command: 'PARAMETER', name: 'top_p', value: '0.9' });
    const korean = read('Qwen2.5-7B-Instruct-kowiki-qa-context.Modelfile');
    expect((korean[2] as { value: string }).value).toMatch(/한국어로 해주세요\.$/);
  });
});

describe("Ollama's parser_test.go cases", () => {
  test('TestParseFileFile and TestParseFileTrimSpace', () => {
    const template =
      '{{ if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>{{ end }}{{ if .Prompt }}<|start_header_id|>user<|end_header_id|>\n\n{{ .Prompt }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n{{ .Response }}<|eot_id|>';
    expect(
      commandsOf(`\nFROM model1\nADAPTER adapter1\nLICENSE MIT\nPARAMETER param1 value1\nPARAMETER param2 value2\nTEMPLATE """${template}"""    \n`),
    ).toEqual(fromOllama([['model', 'model1'], ['adapter', 'adapter1'], ['license', 'MIT'], ['param1', 'value1'], ['param2', 'value2'], ['template', template]]));
    expect(
      commandsOf(
        `\nFROM "     model 1"\nADAPTER      adapter3\nLICENSE "MIT       "\nPARAMETER param1        value1\nPARAMETER param2    value2\nTEMPLATE """   ${template}   """    \n`,
      ),
    ).toEqual(
      fromOllama([['model', '     model 1'], ['adapter', 'adapter3'], ['license', 'MIT       '], ['param1', 'value1'], ['param2', 'value2'], ['template', `   ${template}   `]]),
    );
  });

  test('TestParseFileFrom', () => {
    const cases: Array<[string, Array<[string, string]>]> = [
      ['FROM "FOO  BAR  "', [['model', 'FOO  BAR  ']]],
      ['FROM "FOO BAR"\nPARAMETER param1 value1', [['model', 'FOO BAR'], ['param1', 'value1']]],
      ['FROM     FOOO BAR    ', [['model', 'FOOO BAR']]],
      ['FROM /what/is/the path ', [['model', '/what/is/the path']]],
      ['FROM foo', [['model', 'foo']]],
      ['FROM /path/to/model/fp16.bin', [['model', '/path/to/model/fp16.bin']]],
      ['FROM llama3:7b-instruct-q4_K_M', [['model', 'llama3:7b-instruct-q4_K_M']]],
      ['PARAMETER param1 value1\nFROM foo', [['param1', 'value1'], ['model', 'foo']]],
      ['PARAMETER what the \nFROM lemons make lemonade ', [['what', 'the'], ['model', 'lemons make lemonade']]],
      ['\nFROM base\nDRAFT ./assistant\n', [['model', 'base'], ['draft', './assistant']]],
      ['\nFROM foo\nRENDERER renderer1\nPARSER parser1\n', [['model', 'foo'], ['renderer', 'renderer1'], ['parser', 'parser1']]],
    ];
    for (const [input, expected] of cases) expect(commandsOf(input), JSON.stringify(input)).toEqual(fromOllama(expected));
  });

  test('TestParseFileMessages', () => {
    expect(
      commandsOf(
        '\nFROM foo\nMESSAGE system You are a file parser. Always parse things.\nMESSAGE user Hey there!\nMESSAGE assistant Hello, I want to parse all the things!\n',
      ),
    ).toEqual(
      fromOllama([
        ['model', 'foo'],
        ['message', 'system: You are a file parser. Always parse things.'],
        ['message', 'user: Hey there!'],
        ['message', 'assistant: Hello, I want to parse all the things!'],
      ]),
    );
    expect(commandsOf('\nFROM foo\nMESSAGE system """\nYou are a multiline file parser. Always parse things.\n"""\n\t\t\t')).toEqual(
      fromOllama([['model', 'foo'], ['message', 'system: \nYou are a multiline file parser. Always parse things.\n']]),
    );
  });

  test('TestParseFileQuoted', () => {
    const cases: Array<[string, string]> = [
      ['SYSTEM """\nThis is a\nmultiline system.\n"""\n\t\t\t', '\nThis is a\nmultiline system.\n'],
      ['SYSTEM """\nThis is a\nmultiline system."""\n\t\t\t', '\nThis is a\nmultiline system.'],
      ['SYSTEM """This is a\nmultiline system."""\n\t\t\t', 'This is a\nmultiline system.'],
      ['SYSTEM """This is a multiline system."""\n\t\t\t', 'This is a multiline system.'],
      ['SYSTEM """\nThis is a multiline system with "quotes".\n"""\n', '\nThis is a multiline system with "quotes".\n'],
      ['SYSTEM """"""\n', ''],
      ['SYSTEM ""\n', ''],
      ['SYSTEM "\'"\n', "'"],
      ['SYSTEM """\'\'"\'""\'""\'"\'\'\'\'\'""\'""\'"""\n', `''"'""'""'"'''''""'""'`],
      ['TEMPLATE """\n{{ .Prompt }}\n"""', '\n{{ .Prompt }}\n'],
      // Quirks kept: no escapes, inner quotes are text, a value opened by " runs on to a line ending in ".
      ['SYSTEM "say "hi""\n', 'say "hi"'],
      ['SYSTEM a\\nb\n', 'a\\nb'],
      ['SYSTEM "a" b\nstill "system"\n', 'a" b\nstill "system'],
    ];
    for (const [body, value] of cases) {
      const commands = commandsOf(`\nFROM foo\n${body}`);
      expect(commands, JSON.stringify(body)).toEqual([{ command: 'FROM', value: 'foo' }, { command: body.startsWith('TEMPLATE') ? 'TEMPLATE' : 'SYSTEM', value }]);
    }
  });

  test('TestParseFileParameters', () => {
    const cases: Array<[string, string, string]> = [
      ['numa true', 'numa', 'true'],
      ['num_gqa 1', 'num_gqa', '1'],
      ['top_p 1.0', 'top_p', '1.0'],
      ['penalize_newline true', 'penalize_newline', 'true'],
      ['stop ### User:', 'stop', '### User:'],
      ['stop ### User: ', 'stop', '### User:'],
      ['stop "### User:"', 'stop', '### User:'],
      ['stop "### User: "', 'stop', '### User: '],
      ['stop """### User:"""', 'stop', '### User:'],
      ['stop """### User:\n"""', 'stop', '### User:\n'],
      ['stop <|eot_id|>', 'stop', '<|eot_id|>'],
      ['stop </s>', 'stop', '</s>'],
      // A `#` after a value is part of the value (Ollama then fails to read 0.7 # warm as a float).
      ['temperature 0.7 # warm', 'temperature', '0.7 # warm'],
      // Two blanks after PARAMETER: the name is empty and the rest is the value.
      [' temperature 0.7', '', 'temperature 0.7'],
    ];
    for (const [line, name, value] of cases) {
      expect(commandsOf(`FROM foo\nPARAMETER ${line}\n`), line).toEqual([{ command: 'FROM', value: 'foo' }, { command: 'PARAMETER', name, value }]);
    }
  });

  test('TestParseFileComments, and command names in any case', () => {
    expect(commandsOf('\n# comment\nFROM foo\n\t')).toEqual([{ command: 'FROM', value: 'foo' }]);
    expect(commandsOf('  # indented comment\nfRoM foo\nsystem hi # not a comment\n')).toEqual([
      { command: 'FROM', value: 'foo' },
      { command: 'SYSTEM', value: 'hi # not a comment' },
    ]);
  });

  test('TestParseFileUTF16ParseFile and TestParseMultiByte', () => {
    const data = 'FROM bob\nPARAMETER param1 1\nPARAMETER param2 4096\nSYSTEM You are a utf16 file.\n';
    const expected = fromOllama([['model', 'bob'], ['param1', '1'], ['param2', '4096'], ['system', 'You are a utf16 file.']]);
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(data, 'utf16le')]);
    const be = Buffer.from(le);
    be.swap16();
    expect(commandsOf(le)).toEqual(expected);
    expect(commandsOf(be)).toEqual(expected);

    const multi = 'FROM test\n\tSYSTEM 你好👋';
    const multiExpected = [{ command: 'FROM', value: 'test' }, { command: 'SYSTEM', value: '你好👋' }];
    expect(commandsOf(Buffer.from(multi, 'utf8'))).toEqual(multiExpected);
    expect(commandsOf(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(multi, 'utf16le')]))).toEqual(multiExpected);
  });
});

describe('bytes, BOM and line ends', () => {
  test('a UTF-8 BOM is dropped, from bytes or from a string', () => {
    const expected = [{ command: 'FROM', value: 'x' }, { command: 'SYSTEM', value: 'hi' }];
    expect(commandsOf(Buffer.from('\uFEFFFROM x\nSYSTEM hi\n', 'utf8'))).toEqual(expected);
    expect(commandsOf('\uFEFFFROM x\nSYSTEM hi\n')).toEqual(expected);
  });

  test('CRLF and lone CR end lines; inside quotes they stay in the value', () => {
    expect(commandsOf('FROM x\r\nSYSTEM hi\r\n\r\nPARAMETER stop a\r\n')).toEqual([
      { command: 'FROM', value: 'x' },
      { command: 'SYSTEM', value: 'hi' },
      { command: 'PARAMETER', name: 'stop', value: 'a' },
    ]);
    expect(commandsOf('FROM x\rSYSTEM """a\r\nb"""\r')).toEqual([{ command: 'FROM', value: 'x' }, { command: 'SYSTEM', value: 'a\r\nb' }]);
  });

  test('control and other non-printable characters are dropped, tabs inside values kept', () => {
    expect(commandsOf('\u0001FROM x\nSYSTEM a\u0000b\u200bc\u00a0d\te\n')).toEqual([
      { command: 'FROM', value: 'x' },
      { command: 'SYSTEM', value: 'abcd\te' },
    ]);
  });

  test('ill-formed UTF-8 becomes U+FFFD: per maximal subpart without a BOM, per byte after one (as Go reads it)', () => {
    const body = Buffer.from([...Buffer.from('FROM x\nSYSTEM a'), 0xe2, 0x82, ...Buffer.from('b\n')]);
    expect((commandsOf(body)[1] as { value: string }).value).toBe('a\uFFFDb');
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]);
    expect((commandsOf(withBom)[1] as { value: string }).value).toBe('a\uFFFD\uFFFDb');
    expect(commandsOf('FROM x\nSYSTEM a\ud800b')[1]).toEqual({ command: 'SYSTEM', value: 'a\uFFFDb' });
  });
});

test('each command knows its line and column, CRLF counting as one line break', () => {
  const m = parseModelfile('# header\r\nFROM x\r\nSYSTEM """a\r\nb"""\r\n  PARAMETER stop   "<s>"\r\nMESSAGE user hi\r\n', { filename: 'Modelfile' });
  const [from, system, stop, message] = m.commands.map((c) => commandPosition(c));
  expect(from).toEqual({ file: 'Modelfile', line: 2, column: 1, value: { line: 2, column: 6 } });
  expect(system).toEqual({ file: 'Modelfile', line: 3, column: 1, value: { line: 3, column: 8 } });
  expect(stop).toEqual({ file: 'Modelfile', line: 5, column: 3, name: { line: 5, column: 13 }, value: { line: 5, column: 20 } });
  expect(message).toEqual({ file: 'Modelfile', line: 6, column: 1, name: { line: 6, column: 9 }, value: { line: 6, column: 14 } });
  expect(commandPosition({ command: 'FROM', value: 'x' })).toBeUndefined();
});

test('baseDir is the folder of the file, or what the caller says', () => {
  expect(parseModelfile('FROM x').baseDir).toBeUndefined();
  expect(parseModelfile('FROM x', { filename: '/models/llama/Modelfile' }).baseDir).toBe('/models/llama');
  expect(parseModelfile('FROM x', { filename: '/models/llama/Modelfile', baseDir: '/elsewhere' }).baseDir).toBe('/elsewhere');
});

test('a long quoted value with many lines and blanks reads in linear time', () => {
  const body = 'word '.repeat(20).concat('\n').repeat(4_000); // 400 kB, 80k blanks, 4k line breaks
  const started = performance.now();
  const m = parseModelfile(`FROM x\nLICENSE """${body}"""\n`);
  expect((m.commands[1] as { value: string }).value).toBe(body);
  expect(performance.now() - started).toBeLessThan(1000);
});

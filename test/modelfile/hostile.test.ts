// Hostile Modelfiles: each is one Ollama rejects (in ParseFile or in CreateRequest), and each must fail
// here with the right code at the right line and column, with a message that says what was expected.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { ModelfileError, modelfileToRequest, parseModelfile } from '../../lib/modelfile/index.js';
import type { ModelfileErrorCode } from '../../lib/modelfile/index.js';

const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-modelfile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The error of parsing `source` and turning it into a request, or undefined if both succeed. */
async function rejection(source: string | Uint8Array, filename?: string): Promise<unknown> {
  try {
    const m = parseModelfile(source, filename === undefined ? { baseDir: dir } : { filename, baseDir: dir });
    await modelfileToRequest(m, { userHome: () => undefined });
  } catch (err) {
    return err;
  }
  return undefined;
}

type Case = [name: string, source: string | Uint8Array, code: ModelfileErrorCode, line: number | undefined, column: number | undefined, says: RegExp];

const cases: Case[] = [
  // ParseFile
  ['empty file', '', 'ERR_MODELFILE_NO_FROM', undefined, undefined, /expected a FROM command/],
  ['no FROM', 'PARAMETER seed 1\nSYSTEM hi\n', 'ERR_MODELFILE_NO_FROM', undefined, undefined, /expected a FROM/],
  ['only comments', '# FROM llama3\n\n', 'ERR_MODELFILE_NO_FROM', undefined, undefined, /expected a FROM/],
  ['unknown command', 'FROM x\nBADCOMMAND param1 value1\n', 'ERR_MODELFILE_COMMAND', 2, 1, /expected a command \(one of FROM, .*\) but found "BADCOMMAND"/],
  ['command glued to more letters', 'FROM x\n  fromage y\n', 'ERR_MODELFILE_COMMAND', 2, 3, /found "fromage"/],
  ['digit inside a command', 'FROM x\nFR0M y\n', 'ERR_MODELFILE_COMMAND', 2, 1, /found "FR0"/],
  ['a stray control character on a line', 'FROM x\n\u0001\n', 'ERR_MODELFILE_COMMAND', 2, 1, /found "\\u0001"/],
  ['unknown command after CRLF lines', 'FROM x\r\nSYSTEM "a\r\nb"\r\nBAD y\r\n', 'ERR_MODELFILE_COMMAND', 4, 1, /found "BAD"/],
  ['unknown command after a lone CR', 'FROM x\rBAD y\r', 'ERR_MODELFILE_COMMAND', 2, 1, /found "BAD"/],
  ['unknown command after a BOM', Buffer.from('\uFEFFFROM x\nBAD y\n'), 'ERR_MODELFILE_COMMAND', 2, 1, /found "BAD"/],
  ['FROM without a value', 'FROM\nSYSTEM x\n', 'ERR_MODELFILE_SYNTAX', 1, 5, /expected a space or tab and then the value of FROM, but found the end of the line/],
  ['command at the end of the file', 'FROM x\nSYSTEM', 'ERR_MODELFILE_SYNTAX', 2, 7, /the value of SYSTEM, but found the end of the file/],
  ['punctuation after a command', 'FROM x\nFROM:y\n', 'ERR_MODELFILE_SYNTAX', 2, 5, /found ':'/],
  ['PARAMETER alone', 'FROM x\nPARAMETER\n', 'ERR_MODELFILE_SYNTAX', 2, 10, /a parameter name and its value/],
  ['PARAMETER without a value', 'FROM x\nPARAMETER seed\n', 'ERR_MODELFILE_SYNTAX', 2, 15, /the value of PARAMETER seed/],
  ['bad character in a parameter name', 'FROM x\nPARAMETER top-k 40\n', 'ERR_MODELFILE_PARAMETER', 2, 14, /letters, digits and '_' but found '-' after "top"/],
  ['MESSAGE role tool', 'FROM x\nMESSAGE tool Hi\n', 'ERR_MODELFILE_ROLE', 2, 9, /expected a MESSAGE role \(one of system, user, assistant\) but found "tool"/],
  ['MESSAGE role in capitals', 'FROM x\nMESSAGE User Hi\n', 'ERR_MODELFILE_ROLE', 2, 9, /found "User"/],
  ['MESSAGE with an empty role', 'FROM x\nMESSAGE  user Hi\n', 'ERR_MODELFILE_ROLE', 2, 9, /found ""/],
  ['MESSAGE role with a digit', 'FROM x\nMESSAGE us3r hi\n', 'ERR_MODELFILE_ROLE', 2, 9, /found "us3"/],
  ['MESSAGE without content', 'FROM x\nMESSAGE system\n', 'ERR_MODELFILE_SYNTAX', 2, 15, /the content of MESSAGE system/],
  ['unterminated """', 'FROM x\nSYSTEM """never closed\n\nstill open\n', 'ERR_MODELFILE_UNTERMINATED', 2, 8, /expected a closing """ for the value of SYSTEM/],
  ['unterminated "', 'FROM x\nTEMPLATE "open\n', 'ERR_MODELFILE_UNTERMINATED', 2, 10, /expected a closing " for the value of TEMPLATE/],
  ['""" closed by two quotes', 'FROM x\nSYSTEM """a""\n', 'ERR_MODELFILE_UNTERMINATED', 2, 8, /closing """/],
  ['text after a closing quote swallows the file', 'FROM x\nSYSTEM   "a" b\nPARAMETER seed 1\n', 'ERR_MODELFILE_UNTERMINATED', 2, 10, /closing "/],
  ['syntax errors win over later value errors, as in Ollama', 'FROM x\nPARAMETER num_ctx x\nSYSTEM "', 'ERR_MODELFILE_UNTERMINATED', 3, 8, /closing "/],
  // CreateRequest
  ['float for an int', 'FROM x\nPARAMETER num_ctx 4096.0\n', 'ERR_MODELFILE_PARAMETER', 2, 19, /expected a 64-bit decimal integer for PARAMETER num_ctx but found "4096.0"/],
  ['exponent for an int', 'FROM x\nPARAMETER num_ctx 1e3\n', 'ERR_MODELFILE_PARAMETER', 2, 19, /integer/],
  ['int beyond int64', 'FROM x\nPARAMETER seed 9223372036854775808\n', 'ERR_MODELFILE_PARAMETER', 2, 16, /integer/],
  ['word for a float', 'FROM x\nPARAMETER temperature hot\n', 'ERR_MODELFILE_PARAMETER', 2, 23, /expected a finite float32 number for PARAMETER temperature but found "hot"/],
  ['comment after a float', 'FROM x\nPARAMETER temperature 0.7 # warm\n', 'ERR_MODELFILE_PARAMETER', 2, 23, /found "0.7 # warm"/],
  ['float beyond float32', 'FROM x\nPARAMETER temperature 1e39\n', 'ERR_MODELFILE_PARAMETER', 2, 23, /beyond float32/],
  ['NaN', 'FROM x\nPARAMETER top_p NaN\n', 'ERR_MODELFILE_PARAMETER', 2, 17, /Inf or NaN/],
  ['yes for a bool', 'FROM x\nPARAMETER use_mmap yes\n', 'ERR_MODELFILE_PARAMETER', 2, 20, /expected a bool .* but found "yes"/],
  ['parameter names are case-sensitive', 'FROM x\nPARAMETER Temperature 0.7\n', 'ERR_MODELFILE_PARAMETER', 2, 11, /known parameter name .* but found "Temperature"/],
  ['parameter Ollama dropped', 'FROM x\nPARAMETER grammar root\n', 'ERR_MODELFILE_PARAMETER', 2, 11, /found "grammar"/],
  ['empty parameter name', 'FROM x\nPARAMETER  temperature 0.7\n', 'ERR_MODELFILE_PARAMETER', 2, 11, /found ""/],
  ['REQUIRES a word', 'FROM x\nREQUIRES latest\n', 'ERR_MODELFILE_REQUIRES', 2, 10, /expected REQUIRES to be a semantic version such as 0.14.0 but found "latest"/],
  ['REQUIRES a pre-release on a short version', 'FROM x\nREQUIRES 1.2-rc1\n', 'ERR_MODELFILE_REQUIRES', 2, 10, /"1.2-rc1"/],
  ['REQUIRES with a leading zero', 'FROM x\nREQUIRES 01.2.3\n', 'ERR_MODELFILE_REQUIRES', 2, 10, /"01.2.3"/],
  ['REQUIRES with a capital V', 'FROM x\nREQUIRES V1.2.3\n', 'ERR_MODELFILE_REQUIRES', 2, 10, /"V1.2.3"/],
  ['missing ADAPTER file', 'FROM x\nADAPTER ./missing.gguf\n', 'ERR_MODELFILE_PATH', 2, 9, /expected ADAPTER "\.\/missing\.gguf" to be a file or folder, but it does not exist/],
  ['missing DRAFT file', 'FROM x\nDRAFT ./missing\n', 'ERR_MODELFILE_PATH', 2, 7, /DRAFT/],
  ['unknown ~user', 'FROM ~nosuchuser_zz/m.gguf\n', 'ERR_MODELFILE_PATH', 1, 6, /"~nosuchuser_zz" to name a user/],
];

test.each(cases)('%s', async (_name, source, code, line, column, says) => {
  const err = await rejection(source);
  expect(err).toBeInstanceOf(ModelfileError);
  const e = err as ModelfileError;
  expect({ code: e.code, line: e.line, column: e.column }).toEqual({ code, line, column });
  expect(e.message).toMatch(says);
  if (line !== undefined) expect(e.message).toContain(`(line ${line}:${column})`);
});

test('errors name the Modelfile they came from', async () => {
  const err = (await rejection('FROM x\nPARAMETER seed x\n', '/models/demo/Modelfile')) as ModelfileError;
  expect(err.file).toBe('/models/demo/Modelfile');
  expect(err.message).toMatch(/\(\/models\/demo\/Modelfile:2:16\)$/);
  const noFrom = (await rejection('SYSTEM x\n', '/models/demo/Modelfile')) as ModelfileError;
  expect(noFrom.file).toBe('/models/demo/Modelfile');
  expect(noFrom.line).toBeUndefined();
});

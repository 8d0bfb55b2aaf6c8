// Helpers shared by the Modelfile tests: the real Modelfiles in shared data, and a converter from Ollama's
// own test expectations ({Name, Args} as parser.go stores them) to our command objects.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelfileCommand } from '../../lib/modelfile/index.js';
import { sharedData } from '../sharedData.js';

export const MODELFILES_DIR = sharedData('ollama', 'modelfiles');
export const haveModelfiles = existsSync(MODELFILES_DIR);

export function sharedModelfiles(): string[] {
  if (!haveModelfiles) return [];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.isDirectory()) walk(join(dir, entry.name));
      else if (entry.name.endsWith('Modelfile')) out.push(join(dir, entry.name));
    }
  };
  walk(MODELFILES_DIR);
  return out;
}

const VALUE_COMMANDS = new Set(['adapter', 'draft', 'template', 'system', 'license', 'renderer', 'parser', 'requires']);

/** parser.go's Command{Name, Args} → ours: "model" is FROM, "message" is "role: content", others are PARAMETERs. */
export function fromOllama(list: ReadonlyArray<readonly [string, string]>): ModelfileCommand[] {
  return list.map(([name, args]): ModelfileCommand => {
    if (name === 'model') return { command: 'FROM', value: args };
    if (name === 'message') {
      const cut = args.indexOf(': ');
      return { command: 'MESSAGE', role: args.slice(0, cut), content: args.slice(cut + 2) };
    }
    if (VALUE_COMMANDS.has(name)) return { command: name.toUpperCase() as 'SYSTEM', value: args };
    return { command: 'PARAMETER', name, value: args };
  });
}

// The general.* naming keys convert_hf_to_gguf writes (gguf-py metadata.py): name, organization,
// basename, finetune, version and size_label guessed from config.json's _name_or_path and the
// directory name, the size label from the parameter count, and sampling defaults from
// generation_config.json. Model-card (README.md front matter) fields are not read.
import { basename as pathBasename, resolve } from 'node:path';
import type { KvBuilder } from './kv.js';

const isCased = (c: string) => c.toLowerCase() !== c.toUpperCase();
const isAlpha = (c: string) => /^\p{L}$/u.test(c);
const isDecimal = (c: string) => /^\p{Nd}$/u.test(c);

/** Python's str.title(): a cased character is upper-cased after an uncased one, lower-cased otherwise. */
export function pythonTitle(s: string): string {
  let out = '';
  let previousCased = false;
  for (const c of s) {
    out += previousCased ? c.toLowerCase() : c.toUpperCase();
    previousCased = isCased(c);
  }
  return out;
}

/** Python's str.islower(): at least one cased character, and none upper-case. */
function pythonIsLower(s: string): boolean {
  let cased = false;
  for (const c of s) {
    if (!isCased(c)) continue;
    if (c !== c.toLowerCase()) return false;
    cased = true;
  }
  return cased;
}

export function idToTitle(s: string): string {
  return s
    .trim()
    .replaceAll('-', ' ')
    .split(/\s+/)
    .filter((w) => w.length)
    .map((w) => (pythonIsLower(w) && !/^(v\d+(?:\.\d+)*|\d.*)$/su.test(w) ? pythonTitle(w) : w))
    .join(' ');
}

export interface ModelIdComponents {
  fullName?: string;
  organization?: string;
  basename?: string;
  finetune?: string;
  version?: string;
  sizeLabel?: string;
}

function sizeLabelParams(label: string): number {
  const scale = ' KMBT'.indexOf(label.at(-1) as string);
  const num = label.slice(0, -1);
  // Python float() accepts what this pattern accepts (the labels here never have exponents).
  if (!/^\s*[+-]?(\d+\.?\d*|\.\d+)\s*$/.test(num) || scale < 0) throw new RangeError('not a number');
  return Number(num) * 1000 ** scale;
}

function normalizeSizeLabel(label: string): string {
  let l = label.replaceAll('_', '.');
  if (isDecimal(l.at(-1) as string)) l = `${l.slice(0, -2)}.${l.at(-1)}${l.at(-2)}`;
  if (l.length > 1 && isDecimal(l.at(-2) as string) && 'kmbt'.includes(l.at(-1) as string)) l = l.slice(0, -1) + (l.at(-1) as string).toUpperCase();
  return l;
}

/** Metadata.get_model_id_components. */
export function modelIdComponents(modelId: string | undefined, totalParams: number): ModelIdComponents {
  if (modelId === undefined) return {};
  if (modelId.includes(' ')) return { fullName: modelId };
  let org: string | undefined;
  let full: string;
  const slash = modelId.indexOf('/');
  if (slash >= 0) {
    org = modelId.slice(0, slash);
    full = modelId.slice(slash + 1);
  } else full = modelId;
  if (org !== undefined && org.length > 0 && org[0] === '.') org = undefined;

  const parts = full.split('-').filter((p) => p.length > 0);
  const kinds = parts.map(() => new Set<string>());
  const isActive = (l: string) => /^A\d+([._]\d+)?[KMBT][\d]?$/i.test(l);
  parts.forEach((part, i) => {
    const t = kinds[i]!;
    if (/^(v|iter)?\d+([.]\d+)*$/i.test(part)) t.add('version');
    else if (/^(i?q\d(_\w)*|b?fp?(16|32))$/i.test(part)) {
      t.add('type');
      parts[i] = part.toUpperCase();
    } else if (i > 0 && /^((([A]|\d+[x])?\d+([._]\d+)?[KMBT][\d]?)|small|mini|medium|large|x?xl)$/i.test(part)) {
      let p = normalizeSizeLabel(part);
      if (totalParams !== 0) {
        try {
          const labelParams = sizeLabelParams(p);
          const next = i + 1 < parts.length ? normalizeSizeLabel(parts[i + 1]!) : undefined;
          let followedByActive = false;
          if (next !== undefined && isActive(next)) {
            try {
              followedByActive = Math.abs(sizeLabelParams(next.slice(1)) - Math.abs(totalParams)) <= Math.floor((7 * Math.abs(totalParams)) / 8);
            } catch {
              followedByActive = false;
            }
          }
          const lora = totalParams < 0 && labelParams < Math.floor(Math.abs(totalParams) / 8);
          const far = totalParams > 0 && Math.abs(labelParams - totalParams) > Math.floor((7 * totalParams) / 8);
          if (!followedByActive && (lora || far)) {
            t.add('finetune');
            p = p.slice(0, -1) + (p.at(-1) as string).toLowerCase();
          }
        } catch {
          // Not a number: use it as a label anyway.
        }
      }
      if (t.size === 0) t.add('size_label');
      parts[i] = p;
    } else if (i > 0 && /^(chat|instruct|vision|lora)$/i.test(part)) {
      t.add(totalParams < 0 && part.toLowerCase() === 'lora' ? 'type' : 'finetune');
    }
  });
  if (parts.some((n, i) => kinds[i]!.has('size_label') && [...n].some(isDecimal))) {
    parts.forEach((n, i) => {
      if (kinds[i]!.has('size_label') && [...n].every(isAlpha)) kinds[i]!.delete('size_label');
    });
  }
  let atStart = true;
  parts.forEach((part, i) => {
    const t = kinds[i]!;
    if (atStart && ((t.size === 0 && isAlpha(part[0] as string)) || t.has('version'))) t.add('basename');
    else {
      atStart = false;
      if (t.size === 0) t.add('finetune');
    }
  });
  for (let i = parts.length - 1; i >= 0; i--) {
    const t = kinds[i]!;
    if (t.has('basename') && t.size > 1) t.delete('basename');
    else break;
  }
  const join = (pred: (t: Set<string>) => boolean, unique = false) => {
    const xs = parts.filter((_, i) => pred(kinds[i]!));
    return (unique ? [...new Set(xs)] : xs).join('-') || undefined;
  };
  let base = join((t) => t.has('basename'));
  const sizeLabel = join((t) => t.has('size_label'), true);
  const finetune = join((t) => t.has('finetune'));
  const version = join((t) => t.has('version') && !t.has('basename'));
  if (sizeLabel === undefined && finetune === undefined && version === undefined) base = undefined;
  return { fullName: full, organization: org, basename: base, finetune, version, sizeLabel };
}

/** model_weight_count_rounded_notation. */
export function weightCountNotation(count: number, minDigits = 2): string {
  let scaled: number;
  let suffix: string;
  if (count >= 1e12) [scaled, suffix] = [count * 1e-12, 'T'];
  else if (count >= 1e9) [scaled, suffix] = [count * 1e-9, 'B'];
  else if (count >= 1e6) [scaled, suffix] = [count * 1e-6, 'M'];
  else [scaled, suffix] = [count * 1e-3, 'K'];
  // len(str(round(x)).lstrip('0')): Python rounds half to even.
  const r = Math.round(scaled);
  const rounded = Math.abs(scaled - Math.trunc(scaled)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  const fix = Math.max(minDigits - String(rounded).replace(/^0+/, '').length, 0);
  return `${scaled.toFixed(fix)}${suffix}`;
}

export interface ParameterCounts {
  total: number;
  shared: number;
  expert: number;
  expertCount: number;
}

/** GGUFWriter.get_total_parameter_count over (name, numpy shape) pairs. */
export function parameterCounts(tensors: readonly { name: string; shape: readonly number[] }[]): ParameterCounts {
  let total = 0;
  let shared = 0;
  let expert = 0;
  let expertSum = 0;
  let expertTensors = 0;
  for (const t of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (t.name.includes('_exps.') && t.shape.length >= 3) {
      const count = t.shape[t.shape.length - (t.name.includes('.bias') ? 2 : 3)] as number;
      expert += Math.floor(size / count);
      expertSum += count;
      expertTensors++;
    } else shared += size;
    total += size;
  }
  return { total, shared, expert, expertCount: expertTensors > 0 ? Math.floor(expertSum / expertTensors) : 0 };
}

export function sizeLabel(c: ParameterCounts): string {
  if (c.expertCount > 0) return `${c.expertCount}x${weightCountNotation(Math.abs(c.shared) + Math.abs(c.expert))}`;
  return weightCountNotation(Math.abs(c.total));
}

export interface ModelNaming {
  name: string;
  organization?: string;
  basename?: string;
  finetune?: string;
  version?: string;
  sizeLabel?: string;
  sampling: { key: string; kind: 'string' | 'int32' | 'float32'; value: unknown }[];
}

const SAMPLING: [string, string, 'string' | 'int32' | 'float32'][] = [
  ['sequence', 'general.sampling.sequence', 'string'],
  ['top_k', 'general.sampling.top_k', 'int32'],
  ['top_p', 'general.sampling.top_p', 'float32'],
  ['min_p', 'general.sampling.min_p', 'float32'],
  ['xtc_probability', 'general.sampling.xtc_probability', 'float32'],
  ['xtc_threshold', 'general.sampling.xtc_threshold', 'float32'],
  ['temperature', 'general.sampling.temp', 'float32'],
  ['penalty_last_n', 'general.sampling.penalty_last_n', 'int32'],
  ['penalty_repeat', 'general.sampling.penalty_repeat', 'float32'],
  ['mirostat', 'general.sampling.mirostat', 'int32'],
  ['mirostat_tau', 'general.sampling.mirostat_tau', 'float32'],
  ['mirostat_eta', 'general.sampling.mirostat_eta', 'float32'],
];

/** Metadata.load + the name fallback and size label of prepare_metadata. */
export function modelNaming(dir: string, config: Record<string, unknown>, generationConfig: Record<string, unknown> | undefined, counts: ParameterCounts, name?: string): ModelNaming {
  const out: Partial<ModelNaming> = {};
  const fill = (c: ModelIdComponents) => {
    if (out.name === undefined && c.fullName !== undefined) out.name = idToTitle(c.fullName);
    if (out.organization === undefined && c.organization !== undefined) out.organization = idToTitle(c.organization);
    if (out.basename === undefined && c.basename !== undefined) out.basename = c.basename;
    if (out.finetune === undefined && c.finetune !== undefined) out.finetune = c.finetune;
    if (out.version === undefined && c.version !== undefined) out.version = c.version;
    if (out.sizeLabel === undefined && c.sizeLabel !== undefined) out.sizeLabel = c.sizeLabel;
  };
  const nameOrPath = config._name_or_path;
  if (typeof nameOrPath === 'string' && nameOrPath.split('/').length - 1 <= 1) fill(modelIdComponents(nameOrPath, counts.total));
  const dirName = pathBasename(resolve(dir));
  fill(modelIdComponents(dirName, counts.total));
  if (name !== undefined) out.name = name;
  if (out.name === undefined) out.name = dirName;
  if (out.sizeLabel === undefined && counts.total > 0) out.sizeLabel = sizeLabel(counts);
  const sampling: ModelNaming['sampling'] = [];
  for (const [field, key, kind] of SAMPLING) {
    const v = generationConfig?.[field];
    if (v === undefined || v === null) continue;
    if (kind === 'string' ? typeof v === 'string' : typeof v === 'number') sampling.push({ key, kind, value: v });
  }
  return { ...(out as ModelNaming), sampling };
}

/** Metadata.set_gguf_meta_model for the fields gguf-forge fills. */
export function addNaming(kv: KvBuilder, n: ModelNaming): void {
  for (const s of n.sampling) {
    if (s.kind === 'string') kv.string(s.key, s.value as string);
    else if (s.kind === 'int32') kv.int32(s.key, Math.trunc(s.value as number));
    else kv.float32(s.key, s.value as number);
  }
  kv.string('general.name', n.name);
  if (n.version !== undefined) kv.string('general.version', n.version);
  if (n.organization !== undefined) kv.string('general.organization', n.organization);
  if (n.finetune !== undefined) kv.string('general.finetune', n.finetune);
  if (n.basename !== undefined) kv.string('general.basename', n.basename);
  if (n.sizeLabel !== undefined) kv.string('general.size_label', n.sizeLabel);
}

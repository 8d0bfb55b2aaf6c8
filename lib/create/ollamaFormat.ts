// How Ollama prints numbers, sizes, times and file types (ollama/ollama format/format.go,
// format/bytes.go, format/time.go, fs/ggml/type.go), so a model_type, a `list` row or a `show`
// line reads exactly as Ollama's would.
import { llamaFileTypeName } from '../gguf/ggmlTypes.js';

/** format.HumanNumber: 8030261312 → "8.0B", 513048 → "513K", 1500000 → "1.50M". */
export function humanNumber(n: number | bigint): string {
  const b = typeof n === 'bigint' ? Number(n) : n;
  if (!Number.isFinite(b) || b < 0) throw new RangeError(`Expected a non-negative number for n but received ${String(n)}`);
  if (b >= 1e9) {
    const v = b / 1e9;
    return v === Math.floor(v) ? `${goFixed(v, 0)}B` : `${goFixed(v, 1)}B`;
  }
  if (b >= 1e6) {
    const v = b / 1e6;
    return v === Math.floor(v) ? `${goFixed(v, 0)}M` : `${goFixed(v, 2)}M`;
  }
  if (b >= 1e3) return `${goFixed(b / 1e3, 0)}K`;
  return String(Math.trunc(b));
}

/**
 * Go's %.Nf: rounded from the exact binary value, an exact tie to even. JS toFixed also rounds the
 * exact value but takes an exact tie away from zero (2.25 → "2.3" where Go prints "2.2").
 */
function goFixed(v: number, digits: number): string {
  // toFixed(60) is the exact expansion for the magnitudes printed here (≥ 1e-3, 52 fraction bits).
  const exact = v.toFixed(60);
  const dot = exact.indexOf('.');
  const rest = exact.slice(dot + 1 + digits);
  if (/^50*$/.test(rest)) {
    const kept = exact.slice(0, dot + 1 + digits).replace(/\.$/, '');
    const last = Number(kept[kept.length - 1]);
    if (last % 2 === 0) return kept;
  }
  return v.toFixed(digits);
}

/** format.HumanBytes (decimal units): 4661224676 → "4.7 GB", 1750560 → "1.8 MB", 12 → "12 B". */
export function humanBytes(bytes: number): string {
  let value: number;
  let unit: string;
  if (bytes >= 1e12) [value, unit] = [bytes / 1e12, 'TB'];
  else if (bytes >= 1e9) [value, unit] = [bytes / 1e9, 'GB'];
  else if (bytes >= 1e6) [value, unit] = [bytes / 1e6, 'MB'];
  else if (bytes >= 1e3) [value, unit] = [bytes / 1e3, 'KB'];
  else return `${Math.trunc(bytes)} B`;
  if (value >= 10) return `${Math.trunc(value)} ${unit}`;
  if (value !== Math.trunc(value)) return `${goFixed(value, 1)} ${unit}`;
  return `${Math.trunc(value)} ${unit}`;
}

/** format.humanDuration. */
function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3600000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3600000 / 24 / 365)} years`;
}

/** format.HumanTime: "2 weeks ago", "About a minute ago", "3 hours from now". */
export function humanTime(time: Date, now: Date = new Date()): string {
  const delta = now.getTime() - time.getTime();
  if (Math.trunc(delta / 3600000 / 24 / 365) < -20) return 'Forever';
  if (delta < 0) return `${humanDuration(-delta)} from now`;
  return `${humanDuration(delta)} ago`;
}

/**
 * FileType.String() of `general.file_type`: Ollama's KV.FileType() reads 0 (F32) as "unknown" (a quirk
 * kept so the config blob says what Ollama's would), as it does a missing key or an id it has no name for.
 */
export function ollamaFileTypeName(fileType: number | bigint | undefined): string {
  if (fileType === undefined) return 'unknown';
  const id = Number(fileType);
  // Ollama names 1–3, 7–32 and 36–40; 0 is its "unknown" quirk, 4–6 and 33–35 were retired or never used.
  const named = (id >= 1 && id <= 3) || (id >= 7 && id <= 32) || (id >= 36 && id <= 40);
  return named ? (llamaFileTypeName(id) ?? 'unknown') : 'unknown';
}

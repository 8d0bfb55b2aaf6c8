// Pre-tokenizer regexes are written for Oniguruma (Hugging Face tokenizers) and Python's `regex`.
// JavaScript's engine differs in three places these patterns use: inline case-insensitive groups
// `(?i:...)`, the meaning of \s (JS adds U+FEFF and lacks U+0085, Unicode's White_Space is the
// reverse), and possessive quantifiers (no JS equivalent: refused).

/** Unicode White_Space, which is what \s means in Oniguruma and Python's `regex`. */
const WHITE_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

export class UnsupportedRegexError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedRegexError';
  }
}

function caseFold(ch: string, inClass: boolean): string {
  const lower = ch.toLowerCase();
  const upper = ch.toUpperCase();
  if (lower === upper) return ch;
  return inClass ? `${lower}${upper}` : `[${lower}${upper}]`;
}

/** A JS RegExp (flags `gu`) that matches what the Oniguruma pattern matches. */
export function translateRegex(pattern: string): RegExp {
  let out = '';
  let inClass = false;
  // Depth of open groups, and the depths at which a (?i: group opened.
  const groups: boolean[] = [];
  let ignoreCase = 0;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) throw new UnsupportedRegexError('Pattern ends with a backslash');
      if (next === 's') out += inClass ? WHITE_SPACE : `[${WHITE_SPACE}]`;
      else if (next === 'S') {
        if (inClass) throw new UnsupportedRegexError('\\S inside a character class');
        out += `[^${WHITE_SPACE}]`;
      } else if (next === 'p' || next === 'P') {
        const close = pattern.indexOf('}', i);
        if (pattern[i + 2] !== '{' || close < 0) throw new UnsupportedRegexError(`Malformed \\${next} escape`);
        out += pattern.slice(i, close + 1);
        i = close;
        continue;
      } else out += `\\${next}`;
      i++;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      out += ignoreCase > 0 && /\p{L}/u.test(ch) ? caseFold(ch, true) : ch;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      out += ch;
      if (pattern[i + 1] === '^') {
        out += '^';
        i++;
      }
      continue;
    }
    if (ch === '(') {
      if (pattern.startsWith('(?i:', i)) {
        groups.push(true);
        ignoreCase++;
        out += '(?:';
        i += 3;
        continue;
      }
      if (pattern[i + 1] === '?' && !/^\(\?(?:[:=!]|<[=!]|<[A-Za-z])/.test(pattern.slice(i, i + 4))) {
        throw new UnsupportedRegexError(`Unsupported group ${pattern.slice(i, i + 4)}`);
      }
      groups.push(false);
      out += ch;
      continue;
    }
    if (ch === ')') {
      if (groups.pop()) ignoreCase--;
      out += ch;
      continue;
    }
    if ((ch === '+' || ch === '*' || ch === '?' || ch === '}') && pattern[i + 1] === '+') {
      throw new UnsupportedRegexError('Possessive quantifier');
    }
    out += ignoreCase > 0 && /\p{L}/u.test(ch) ? caseFold(ch, false) : ch;
  }
  return new RegExp(out, 'gu');
}

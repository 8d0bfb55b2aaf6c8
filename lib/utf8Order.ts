// String order by UTF-8 bytes: the order Go, llama.cpp's std::map and safetensors writers sort names in.

/** Bytewise UTF-8 order, which is code point order (JS's `<` compares UTF-16 units and differs above U+FFFF). */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) as number;
    const y = b.codePointAt(i) as number;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

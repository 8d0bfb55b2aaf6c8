// Modelfile bytes to text the way Ollama reads them: golang.org/x/text `unicode.BOMOverride(UTF8)` in
// front of bufio.Reader.ReadRune. A UTF-16 BOM switches to UTF-16. Without a BOM, x/text's UTF-8 decoder
// turns each maximal ill-formed subpart into one U+FFFD (TextDecoder's rule too). After a UTF-8 BOM,
// BOMOverride passes the bytes through untouched and ReadRune yields one U+FFFD per bad byte instead.

const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function decodeModelfileBytes(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return decodeUtf16(bytes.subarray(2), true);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return decodeUtf16(bytes.subarray(2), false);
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return decodeRunes(bytes.subarray(3));
  return utf8.decode(bytes);
}

function decodeRunes(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return decodeRunesSlowly(bytes);
  }
}

const isCont = (b: number | undefined): boolean => b !== undefined && (b & 0xc0) === 0x80;

/** ReadRune (utf8.DecodeRune) in a loop: a malformed sequence yields U+FFFD and consumes one byte. */
function decodeRunesSlowly(bytes: Uint8Array): string {
  const out: string[] = [];
  let run = 0; // start of the current run of valid bytes, decoded in one piece
  let i = 0;
  while (i < bytes.length) {
    const b0 = bytes[i] as number;
    let size = 0;
    if (b0 < 0x80) size = 1;
    else if (b0 >= 0xc2 && b0 <= 0xdf) size = isCont(bytes[i + 1]) ? 2 : 0;
    else if (b0 >= 0xe0 && b0 <= 0xef) {
      const b1 = bytes[i + 1];
      // E0 needs A0..BF (no overlongs), ED needs 80..9F (no surrogates).
      const lo = b0 === 0xe0 ? 0xa0 : 0x80;
      const hi = b0 === 0xed ? 0x9f : 0xbf;
      size = b1 !== undefined && b1 >= lo && b1 <= hi && isCont(bytes[i + 2]) ? 3 : 0;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      const b1 = bytes[i + 1];
      // F0 needs 90..BF (no overlongs), F4 needs 80..8F (nothing past U+10FFFF).
      const lo = b0 === 0xf0 ? 0x90 : 0x80;
      const hi = b0 === 0xf4 ? 0x8f : 0xbf;
      size = b1 !== undefined && b1 >= lo && b1 <= hi && isCont(bytes[i + 2]) && isCont(bytes[i + 3]) ? 4 : 0;
    }
    if (size === 0) {
      if (run < i) out.push(strictUtf8.decode(bytes.subarray(run, i)));
      out.push('\uFFFD');
      i += 1;
      run = i;
    } else {
      i += size;
    }
  }
  if (run < bytes.length) out.push(strictUtf8.decode(bytes.subarray(run)));
  return out.join('');
}

/** UTF-16 after its BOM (x/text's utf16Decoder); unpaired surrogates and a dangling odd byte become U+FFFD. */
function decodeUtf16(bytes: Uint8Array, littleEndian: boolean): string {
  const units = Math.floor(bytes.length / 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = [];
  let chunk: number[] = [];
  for (let k = 0; k < units; k++) {
    const u = view.getUint16(2 * k, littleEndian);
    if (u >= 0xd800 && u <= 0xdfff && k + 1 < units) {
      const v = view.getUint16(2 * k + 2, littleEndian);
      if (v >= 0xdc00 && v <= 0xdfff) {
        // x/text pairs any surrogate with a following low one; a low+low pair is one U+FFFD.
        if (u <= 0xdbff) chunk.push(u, v);
        else chunk.push(0xfffd);
        k++;
        continue;
      }
    }
    chunk.push(u >= 0xd800 && u <= 0xdfff ? 0xfffd : u);
    if (chunk.length >= 4096) {
      out.push(String.fromCharCode(...chunk));
      chunk = [];
    }
  }
  if (bytes.length % 2 === 1) chunk.push(0xfffd);
  out.push(String.fromCharCode(...chunk));
  return out.join('');
}

// The TypeError/RangeError the kernel APIs throw for a bad argument, before any native work:
// "Expected <what> for <name> but received <value> of type <typeof>".

/** A value as the message shows it: strings quoted, typed arrays by kind and length. */
function received(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as { length?: number }).length ?? value.byteLength})`;
  return String(value);
}

/** Throws the argument error; with `code`, the error carries it as an enumerable property. */
export function invalidArgument(ErrorType: typeof TypeError | typeof RangeError, what: string, name: string, value: unknown, code?: string): never {
  const error = new ErrorType(`Expected ${what} for ${name} but received ${received(value)} of type ${typeof value}`);
  if (code !== undefined) Object.defineProperty(error, 'code', { value: code, enumerable: true });
  throw error;
}

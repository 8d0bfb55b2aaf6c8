import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Whether two paths name the same file (symlinks and relative paths resolved), so a job never
 * writes its output over one of its inputs. A path that does not exist yet compares by its
 * absolute spelling.
 */
export function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return resolve(a) === resolve(b);
  }
}

import { isAbsolute, relative, resolve } from 'node:path';

/** True when `path` is `dir` or lies under it (lexically: symlinks are not followed). */
export function isInside(dir: string, path: string): boolean {
  const r = relative(resolve(dir), resolve(path));
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
}

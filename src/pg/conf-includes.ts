/** The include directives of postgresql.conf (include, include_if_exists, include_dir). Pure. */
import { parseConfLines, unquoteConf } from './conf-file.js';

export interface IncludeDirective {
  kind: 'include' | 'include_if_exists' | 'include_dir';
  /** As written (unquoted). */
  path: string;
}

/** The include directives of a postgresql.conf text, in order. Pure. */
export function includeDirectives(text: string): IncludeDirective[] {
  const out: IncludeDirective[] = [];
  for (const line of text.split('\n')) {
    const [entry] = parseConfLines(line);
    if (!entry) continue;
    const [name, raw] = entry;
    if (name === 'include' || name === 'include_if_exists' || name === 'include_dir') out.push({ kind: name, path: unquoteConf(raw) });
  }
  return out;
}

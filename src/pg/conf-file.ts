/**
 * postgresql.conf syntax, without I/O: format a setting's value, and read/merge the simple
 * "name = value" files pgkeep writes (the local cluster's include file, recovery settings).
 */

export type ConfValue = string | number | boolean;

/** Format a value the way postgresql.conf wants it: numbers and booleans bare, strings quoted. */
export function formatConfValue(value: ConfValue): string {
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`setting value ${value} is not a finite number`);
    return String(value);
  }
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** One "name = value" line. Setting names are letters, digits, "_" and "." (custom settings). */
export function formatConfLine(name: string, value: ConfValue): string {
  if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) throw new TypeError(`invalid setting name "${name}"`);
  return `${name} = ${formatConfValue(value)}`;
}

/**
 * Read "name = value" lines (comments and blank lines skipped). Values keep their raw text
 * (quotes included) so that writing them back reproduces them exactly.
 */
export function parseConfLines(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = stripComment(raw).trim();
    if (!line) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_.]*)\s*=?\s*(.*)$/.exec(line);
    if (m) out.set(m[1]!.toLowerCase(), m[2]!.trim());
  }
  return out;
}

function stripComment(line: string): string {
  let inQuote = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "'") {
      if (inQuote && line[i + 1] === "'") i++;
      else inQuote = !inQuote;
    } else if (c === '\\' && inQuote) i++;
    else if (c === '#' && !inQuote) return line.slice(0, i);
  }
  return line;
}

/** Render a map of raw values back into file text, one line per setting. */
export function renderConfLines(settings: Map<string, string>, header?: string): string {
  const lines = header ? header.split('\n').map((l) => `# ${l}`) : [];
  for (const [k, v] of settings) lines.push(`${k} = ${v}`);
  return lines.join('\n') + '\n';
}

/** Merge typed settings into a map of raw values (later wins; names are case-insensitive). */
export function mergeConf(into: Map<string, string>, settings: Record<string, ConfValue>): Map<string, string> {
  for (const [k, v] of Object.entries(settings)) {
    formatConfLine(k, v); // validates the name
    into.set(k.toLowerCase(), formatConfValue(v));
  }
  return into;
}

/** A configuration value without its quotes. */
export function unquoteConf(raw: string): string {
  const m = /^'(.*)'$/s.exec(raw);
  return m ? m[1]!.replace(/''/g, "'").replace(/\\(.)/g, '$1') : raw;
}

#!/usr/bin/env node
// The import rules of docs/architecture.md, checked on src/**/*.ts: reads each file's import and
// export-from specifiers (static and dynamic, type-only too) and fails, naming file and import, on a
// layer violation. Needs no TypeScript API (the project builds with TypeScript 7's native compiler).
// Usage: node scripts/check-boundaries.mjs [srcDir]   exit 0 = clean, 1 = violations.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const root = resolve(process.argv[2] ?? 'src');

/** The use cases (DESIGN.md §2); faults/ is test code but sits at this level too. */
const USE_CASES = [
  'backup',
  'wal',
  'restore',
  'logical',
  'retention',
  'scenarios',
  'doctor',
  'inspect',
  'monitor',
  'agent',
  'drill',
  'dashboard',
  'faults',
];

/**
 * The layer between the use cases and repo/ + pg/: what the repository holds for a cluster
 * (identity, snapshots and their meta, snapshot references, the WAL archive). Use cases import it;
 * it imports only repo/, pg/ and the leaves.
 */
const SHARED = 'holdings';
const SHARED_MAY_IMPORT = new Set([SHARED, 'repo', 'pg', 'config', '.']);

/**
 * Files outside cli/ that mention process.stdout or console but do not print: each with its reason.
 */
const PRINT_ALLOWED = new Map([
  ['doctor/archive-access.ts', 'the text is a script run as the server user in a child process; its stdout is read back'],
  ['pg/local-cluster.ts', 'PGKEEP_KEEP_CLUSTERS (a debugging aid for tests) says on stderr which cluster it kept'],
]);

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** 'cli', 'repo', ... or '.' for a file at the top of src/. */
const folderOf = (rel) => (rel.includes('/') ? rel.split('/')[0] : '.');
const isTestCode = (rel) =>
  /\.(test|fixtures)\.ts$/.test(rel) || rel.startsWith('test-support/') || rel.startsWith('faults/') || /(^|\/)test-[^/]*\.ts$/.test(rel);

/** Relative import specifiers of a file, as src-relative .ts paths. */
function importsOf(file, text) {
  const specs = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;
  for (const m of text.matchAll(re)) {
    const spec = m[1];
    if (!spec.startsWith('.')) continue;
    const target = relative(root, resolve(dirname(file), spec))
      .split(sep)
      .join('/')
      .replace(/\.js$/, '.ts');
    specs.push({ spec, target, line: text.slice(0, m.index).split('\n').length });
  }
  return specs;
}

/** Lines that touch the terminal (stdout, stderr, stdin, raw mode) or the console, comments excluded. */
function printLines(text) {
  const hits = [];
  text.split('\n').forEach((line, i) => {
    const code = line.replace(/\/\/.*$/, '');
    if (/^\s*(\*|\/\*)/.test(line)) return;
    if (/\bprocess\.(stdout|stderr|stdin)\b|\.setRawMode\b|\bconsole\.(log|info|warn|error|debug|table|dir)\b/.test(code)) hits.push(i + 1);
  });
  return hits;
}

/**
 * Lines that write an exit code as a bare number (`return 7`, `process.exit(3)`, `exitCode = 11`,
 * `const WAL_GET_FAILED = 126`): exit codes come from src/errors.ts (ERROR_CODES, EXIT,
 * exitCodeOf), so that docs/exit-codes.md has one source. `return <number>` counts in cli/ only,
 * where a command handler's return value is its exit code.
 */
function bareExitCodeLines(text, inCli) {
  const rules = [
    /\bprocess\.exit\(\s*\d/, // process.exit(3)
    /\bexit\w*\s*(=|:)\s*\d/i, // exitCode = 11, { exitCode: 7 }
    /\bexit\w*\s*=[^=;]*(\?\?|\|\|)\s*\d/i, // exitCode = (await run()) ?? 0
    /\bexit\(\s*[^;]*(\?\?|\|\|)\s*\d/, // process.exit(process.exitCode ?? 0)
    /\bconst\s+\w*(EXIT\w*|_FAILED|_NOT_FOUND)\s*=\s*\d/, // const WAL_GET_FAILED = 126
  ];
  if (inCli) rules.push(/\breturn\s+\d+\s*;/, /\breturn\b[^;]*\?\s*\d+\s*:/, /\breturn\b[^;]*:\s*\d+\s*;/);
  const hits = [];
  text.split('\n').forEach((line, i) => {
    if (/^\s*(\*|\/\*|\/\/)/.test(line)) return;
    const code = line.replace(/\/\/.*$/, '').replace(/(['"`])(?:\\.|(?!\1).)*\1/g, "''");
    if (rules.some((r) => r.test(code))) hits.push(i + 1);
  });
  return hits;
}

/** Longest a source file may be (docs/architecture.md): split a longer one along its concepts. */
const MAX_LINES = 400;

/** Lines of a file as `wc -l` counts them. */
const lineCount = (text) => text.split('\n').length - (text.endsWith('\n') ? 1 : 0);

/** The rule an import breaks, or undefined. */
function ruleBroken(from, to, fromRel, toRel) {
  if (!isTestCode(fromRel) && isTestCode(toRel))
    return 'production code never imports test code (test-support/, faults/, *.test.ts, *.fixtures.ts, test-*.ts)';
  if (isTestCode(fromRel)) return undefined; // tests drive every layer
  if (from === to) return undefined;
  if (to === 'cli') return 'only cli/ depends on cli/ (move what is shared to a leaf, e.g. config/)';
  if (from === 'repo' && (to === 'pg' || to === SHARED || USE_CASES.includes(to)))
    return `repo/ never imports pg/, ${SHARED}/ nor a use case`;
  if (from === 'pg' && (to === 'repo' || to === SHARED || USE_CASES.includes(to)))
    return `pg/ never imports repo/, ${SHARED}/ nor a use case`;
  if (from === 'config' && (to === SHARED || USE_CASES.includes(to))) return `config/ never imports ${SHARED}/ nor a use case`;
  if (from === SHARED && !SHARED_MAY_IMPORT.has(to))
    return `${SHARED}/ imports only repo/, pg/ and the leaves (config/, src/*.ts), never a use case`;
  if (USE_CASES.includes(from) && USE_CASES.includes(to) && toRel !== `${to}/index.ts`) {
    return `a use case imports another only through its index.ts (${to}/index.ts): move what both need to ${SHARED}/, pg/ or a leaf`;
  }
  return undefined;
}

const violations = [];
const files = walk(root);
for (const file of files) {
  const rel = relative(root, file).split(sep).join('/');
  const text = readFileSync(file, 'utf8');
  for (const imp of importsOf(file, text)) {
    const rule = ruleBroken(folderOf(rel), folderOf(imp.target), rel, imp.target);
    if (rule) violations.push(`src/${rel}:${imp.line} imports '${imp.spec}': ${rule}`);
  }
  if (folderOf(rel) !== 'cli' && !isTestCode(rel) && !PRINT_ALLOWED.has(rel)) {
    for (const line of printLines(text))
      violations.push(`src/${rel}:${line}: only cli/ prints or reads the terminal (report or ask through a callback, or return data)`);
  }
  const lines = lineCount(text);
  if (lines > MAX_LINES)
    violations.push(
      `src/${rel}: ${lines} lines, over ${MAX_LINES}: split it along its concepts (helpers or fixtures of a test file into test-*.ts / *.fixtures.ts)`,
    );
  if (rel !== 'errors.ts' && !isTestCode(rel)) {
    for (const line of bareExitCodeLines(text, folderOf(rel) === 'cli')) {
      violations.push(`src/${rel}:${line}: exit codes come from src/errors.ts (ERROR_CODES, EXIT, exitCodeOf), not bare numbers`);
    }
  }
}

if (violations.length) {
  console.error(`BOUNDARIES: ${violations.length} violation(s) of the rules of docs/architecture.md:`);
  for (const v of violations) console.error(`  ${v}`);
  process.exit(1);
}
console.log(`BOUNDARIES: ok (${files.length} files)`);

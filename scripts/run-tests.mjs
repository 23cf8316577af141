#!/usr/bin/env node
// Runs every compiled test file (dist/**/*.test.js) with Node's test runner and ends with a line
// of counts. `--unit` runs only files named *.unit.test.js (no PostgreSQL needed).
// Further arguments filter test files by substring: `node scripts/run-tests.mjs config cluster`.
// Coverage: V8 collects it (NODE_V8_COVERAGE, also in the pgkeep processes the tests start) and c8
// maps it back to src/*.ts; the run ends with a COVERAGE line. PGKEEP_TEST_COVERAGE=0 turns it off.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { spawn, spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const filters = args.filter((a) => !a.startsWith('--'));

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

let files = walk('dist').sort();
if (unitOnly) files = files.filter((f) => f.endsWith('.unit.test.js'));
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('no test files found (did the build run?)');
  process.exit(1);
}

// Hermetic: the machine's own pgkeep and libpq settings never reach a test. HOME and the system
// config directory are empty temporary directories; PGKEEP_* and libpq's PG* variables are dropped
// (but for PGKEEP_PG_BIN, which says where the server binaries are, and PGKEEP_TEST_*).
const sandbox = mkdtempSync(join(tmpdir(), 'pgkeep-test-env-'));
mkdirSync(join(sandbox, 'home'));
mkdirSync(join(sandbox, 'etc'));
const faultLog = join(sandbox, 'faults.log');
writeFileSync(faultLog, '');
const env = {};
for (const [k, v] of Object.entries(process.env)) {
  if (/^PGKEEP_/.test(k) && k !== 'PGKEEP_PG_BIN' && !k.startsWith('PGKEEP_TEST_')) continue;
  if (/^PG[A-Z]+$/.test(k)) continue;
  env[k] = v;
}
Object.assign(env, { HOME: join(sandbox, 'home'), PGKEEP_SYSCONFDIR: join(sandbox, 'etc'), PGKEEP_FAULT_LOG: faultLog });
const coverage = process.env.PGKEEP_TEST_COVERAGE !== '0';
const c8 = (() => {
  try {
    return createRequire(import.meta.url).resolve('c8/bin/c8.js');
  } catch {
    return undefined;
  }
})();
// Its own directory, writable by all: the pgkeep processes the server runs as its OS user
// (archive_command) write their coverage there too, instead of failing to and saying so on stderr.
const coverageDir = coverage ? mkdtempSync(join(tmpdir(), 'pgkeep-test-coverage-')) : undefined;
if (coverageDir) {
  chmodSync(coverageDir, 0o1777);
  env.NODE_V8_COVERAGE = coverageDir;
}

/** "FAULTS: N injected, M survived" from the lines faultTest() wrote (src/test-support/faults.ts). */
function faultLine() {
  const lines = readFileSync(faultLog, 'utf8').split('\n').filter(Boolean);
  const injected = lines.filter((l) => l.startsWith('injected\t')).length;
  const survived = lines.filter((l) => l.startsWith('survived\t')).length;
  return `FAULTS: ${injected} injected, ${survived} survived${injected > survived ? ` (${injected - survived} NOT survived)` : ''}`;
}

/** "COVERAGE: lines X%, branches Y%, functions Z%" of src/ (tests and test helpers left out), by c8. */
function coverageLine() {
  if (!c8) return 'COVERAGE: not measured (c8 is not installed; run npm ci)';
  const out = join(sandbox, 'coverage');
  const r = spawnSync(
    process.execPath,
    [
      c8,
      'report',
      '--temp-directory',
      env.NODE_V8_COVERAGE,
      '--report-dir',
      out,
      '--reporter',
      'json-summary',
      '--all',
      'false',
      '--exclude-after-remap',
      '--include',
      'src/**',
      '--exclude',
      'src/**/*.test.ts',
      '--exclude',
      'src/**/*.fixtures.ts',
      '--exclude',
      'src/test-support/**',
      '--exclude',
      'src/faults/**',
      '--exclude',
      'src/**/test-*.ts',
    ],
    { encoding: 'utf8', timeout: 300_000 },
  );
  const file = join(out, 'coverage-summary.json');
  if (r.status !== 0 || !existsSync(file))
    return `COVERAGE: not measured (c8 report failed: ${(r.stderr || r.error?.message || '').trim().split('\n')[0]})`;
  const t = JSON.parse(readFileSync(file, 'utf8')).total;
  return `COVERAGE: lines ${t.lines.pct}%, branches ${t.branches.pct}%, functions ${t.functions.pct}% (src/, tests excluded)`;
}

const child = spawn(
  process.execPath,
  ['--test', '--test-reporter=spec', `--test-concurrency=${process.env.PGKEEP_TEST_CONCURRENCY ?? 2}`, ...files],
  { stdio: ['ignore', 'pipe', 'inherit'], env },
);

let tail = '';
child.stdout.on('data', (d) => {
  process.stdout.write(d);
  tail = (tail + d.toString()).slice(-1_000_000); // the counts come before the list of failures
});
child.on('close', (code) => {
  const num = (k) => Number([...tail.matchAll(new RegExp(`ℹ ${k} (\\d+)`, 'g'))].at(-1)?.[1] ?? 0);
  // A failing before() hook cancels the file's tests: count those as failures too.
  const failed = num('fail') + num('cancelled');
  const status = code === 0 && failed === 0 ? 'ok' : 'FAILED';
  console.log(`\n${faultLine()}`);
  if (coverage) console.log(coverageLine());
  rmSync(sandbox, { recursive: true, force: true });
  if (coverageDir) rmSync(coverageDir, { recursive: true, force: true });
  console.log(
    `TESTS: ${num('pass')} passed, ${failed} failed, ${num('skipped')} skipped, ${num('todo')} todo (${files.length} files) ${status}`,
  );
  process.exit(code === 0 && failed > 0 ? 1 : (code ?? 1));
});

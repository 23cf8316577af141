#!/usr/bin/env node
// Runs every compiled test file (dist/**/*.test.js) with Node's test runner and ends with a line
// of counts. `--unit` runs only files named *.unit.test.js (no PostgreSQL needed).
// Further arguments filter test files by substring: `node scripts/run-tests.mjs config cluster`.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

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

const child = spawn(process.execPath, [
  '--test', '--test-reporter=spec', `--test-concurrency=${process.env.PGKEEP_TEST_CONCURRENCY ?? 2}`,
  ...files,
], { stdio: ['ignore', 'pipe', 'inherit'] });

let tail = '';
child.stdout.on('data', (d) => {
  process.stdout.write(d);
  tail = (tail + d.toString()).slice(-4000);
});
child.on('close', (code) => {
  const num = (k) => Number((tail.match(new RegExp(`ℹ ${k} (\\d+)`)) ?? [])[1] ?? 0);
  // A failing before() hook cancels the file's tests: count those as failures too.
  const failed = num('fail') + num('cancelled');
  const status = code === 0 && failed === 0 ? 'ok' : 'FAILED';
  console.log(`\nTESTS: ${num('pass')} passed, ${failed} failed, ${num('skipped')} skipped, ${num('todo')} todo (${files.length} files) ${status}`);
  process.exit(code === 0 && failed > 0 ? 1 : code ?? 1);
});

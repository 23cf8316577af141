/**
 * Rules of scripts/check-boundaries.mjs (docs/architecture.md), each run on a scratch source
 * tree: it must name each breach and fail, and pass what keeps the rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '../scripts/check-boundaries.mjs');

function check(files: Record<string, string>): { code: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pgkeep-boundaries-'));
  try {
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeFileSync(join(dir, rel), text);
    }
    const r = spawnSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8' });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a bare numeric exit code outside errors.ts fails the check, naming file and line', () => {
  const r = check({
    'errors.ts': 'export const EXIT = { OK: 0, WAL_GET_FAILED: 126 } as const;\n',
    'cli/commands/a.ts': 'export function a(json: boolean) {\n  if (json) return 7;\n  return json ? 0 : 7;\n}\n',
    'cli/main.ts': 'let exitCode = 0;\nexitCode = (await run()) ?? 0;\nprocess.exit(3);\nconst WAL_GET_FAILED = 126;\n',
    'wal/x.ts': 'process.exitCode = 11;\n',
  });
  assert.equal(r.code, 1, r.out);
  for (const where of [
    'src/cli/commands/a.ts:2',
    'src/cli/commands/a.ts:3',
    'src/cli/main.ts:1',
    'src/cli/main.ts:2',
    'src/cli/main.ts:3',
    'src/cli/main.ts:4',
    'src/wal/x.ts:1',
  ]) {
    assert.match(r.out, new RegExp(`${where.replace(/[./]/g, '\\$&')}: exit codes come from src/errors\\.ts`), where);
  }
  assert.doesNotMatch(r.out, /src\/errors\.ts:/);
});

test('exit codes taken from the registry, and numbers that are not exit codes, pass', () => {
  const r = check({
    'errors.ts': 'export const EXIT = { OK: 0 } as const;\n',
    'cli/commands/a.ts':
      "import { EXIT, exitCodeOf } from '../../errors.js';\n" +
      'export function a(json: boolean, n?: string) {\n  const prefetch = n === undefined ? 0 : Number(n);\n' +
      "  if (json) return exitCodeOf('DATA_INTEGRITY');\n  return prefetch ? EXIT.OK : exitCodeOf('USAGE');\n}\n",
    'pg/tar.ts': 'export function size(t: string): number {\n  if (t === "") return 0;\n  return 512;\n}\n',
  });
  assert.equal(r.code, 0, r.out);
});

test('only cli/ touches the terminal: stdin, stderr and raw mode elsewhere fail', () => {
  const r = check({
    'repo/ask.ts':
      'export function ask(): void {\n  if (process.stdin.isTTY) process.stdin.setRawMode(true);\n  process.stderr.write("Passphrase: ");\n}\n',
    'cli/prompt.ts': 'export function ask(): void {\n  process.stdin.setRawMode(true);\n  process.stderr.write("Passphrase: ");\n}\n',
  });
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /src\/repo\/ask\.ts:2: only cli\/ prints/);
  assert.match(r.out, /src\/repo\/ask\.ts:3: only cli\/ prints/);
  assert.doesNotMatch(r.out, /src\/cli\/prompt\.ts/);
});

test('a source file over 400 lines fails, test files too; 400 lines pass', () => {
  const lines = (n: number) => `${'export const x = 1;\n'.repeat(n)}`;
  const r = check({ 'pg/long.ts': lines(401), 'pg/long.test.ts': lines(450), 'pg/ok.ts': lines(400) });
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /src\/pg\/long\.ts: 401 lines, over 400/);
  assert.match(r.out, /src\/pg\/long\.test\.ts: 450 lines, over 400/);
  assert.doesNotMatch(r.out, /src\/pg\/ok\.ts/);
});

test('a use case reaches another only through its index.ts; holdings/ sits below the use cases and above repo/ and pg/', () => {
  const r = check({
    'restore/prepare.ts': "import { buildMeta } from '../backup/publish.js';\nimport { backup } from '../backup/index.js';\n",
    'logical/sandbox.ts': "import { planPitr } from '../restore/pitr/index.js';\nimport { restore } from '../restore/index.js';\n",
    'holdings/wal-read.ts':
      "import { restore } from '../restore/index.js';\nimport { Repository } from '../repo/index.js';\n" +
      "import { parseLsn } from '../pg/lsn.js';\nimport { PgkeepError } from '../errors.js';\nimport type { X } from '../config/types.js';\n",
    'repo/refs.ts': "import { walObjectName } from '../holdings/wal-layout.js';\n",
    'pg/lsn.ts': "import { readPhysicalMeta } from '../holdings/index.js';\n",
    'wal/check.ts': "import { listArchive } from '../holdings/wal-listing.js';\n",
  });
  assert.equal(r.code, 1, r.out);
  assert.match(
    r.out,
    /src\/restore\/prepare\.ts:1 imports '\.\.\/backup\/publish\.js': a use case imports another only through its index\.ts \(backup\/index\.ts\)/,
  );
  assert.match(
    r.out,
    /src\/logical\/sandbox\.ts:1 imports '\.\.\/restore\/pitr\/index\.js': a use case imports another only through its index\.ts/,
  );
  assert.match(
    r.out,
    /src\/holdings\/wal-read\.ts:1 imports '\.\.\/restore\/index\.js': holdings\/ imports only repo\/, pg\/ and the leaves/,
  );
  assert.match(r.out, /src\/repo\/refs\.ts:1 .*repo\/ never imports pg\/, holdings\/ nor a use case/);
  assert.match(r.out, /src\/pg\/lsn\.ts:1 .*pg\/ never imports repo\/, holdings\/ nor a use case/);
  assert.equal(r.out.match(/imports '/g)?.length, 5, `exactly the five breaches:\n${r.out}`);
});

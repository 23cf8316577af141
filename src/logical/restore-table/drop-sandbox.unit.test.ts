// dropSandbox with a prefetcher still running in the sandbox's spool (a recovery that paused at its
// target or failed never ran recovery_end_command): the prefetcher is stopped and the sandbox goes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive } from '../../pg/process-alive.js';
import { dropSandbox } from './sandbox.js';

test('a prefetcher writing into the sandbox spool is stopped and the sandbox removed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgkeep-drop-sandbox-'));
  const dataDir = join(dir, 'data');
  const spool = join(dataDir, 'pg_wal', 'pgkeep-spool', 'repo-cluster-1');
  mkdirSync(spool, { recursive: true });
  // Files in many directories, so that a removal takes a while, with a writer creating more.
  for (let d = 0; d < 40; d++) {
    mkdirSync(join(dataDir, `base${d}`));
    for (let f = 0; f < 50; f++) writeFileSync(join(dataDir, `base${d}`, String(f)), 'x');
  }
  // A stand-in prefetcher: its command line names "prefetch", it writes a file every millisecond.
  const writer = spawn('sh', ['-c', `i=0; while :; do : > "$1/.absent-$i" 2>/dev/null; i=$((i+1)); done`, 'prefetch', spool], {
    stdio: 'ignore',
  });
  writeFileSync(join(spool, '.prefetch.pid'), String(writer.pid));
  await new Promise((r) => setTimeout(r, 200));
  try {
    const problems = await dropSandbox({ dir, dataDir }, false);
    assert.deepEqual(problems, []);
    assert.equal(existsSync(dir), false, 'the sandbox is removed');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(processAlive(writer.pid!), false, 'the prefetcher was stopped');
  } finally {
    writer.kill('SIGKILL');
  }
});

/**
 * The process around main(): a command whose promise never settles (node's event loop empties
 * with it still pending) must not end with exit code 0. Tiny scripts import the runner with a
 * main that never settles, rejects, or resolves, as bin/pgkeep.js does with the real one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const RUNNER = JSON.stringify(fileURLToPath(new URL('./run-cli.js', import.meta.url)));

function run(
  mainSource: string,
  args: string[] = [],
  closeStdout = false,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = `import { runCli } from ${RUNNER};\nrunCli(process.argv, ${mainSource});\n`;
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, '--', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      if (closeStdout) child.stdout.destroy();
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', rej);
    child.on('close', (code) => res({ code, stdout, stderr }));
  });
}

test('a main that never settles: exit 70 with INTERNAL "ended before its work finished", never 0', async () => {
  const r = await run('() => new Promise(() => {})');
  assert.equal(r.code, 70, r.stderr);
  assert.match(r.stderr, /^pgkeep: error: pgkeep ended before its work finished/m);
  assert.match(r.stderr, /^hint: /m);
});

test('the same with --json: the error as JSON on stdout', async () => {
  // Pending on a timer first: the loop empties only once it has fired.
  const r = await run('() => new Promise((res) => setTimeout(() => new Promise(() => {}), 50))', ['--json']);
  assert.equal(r.code, 70, r.stderr);
  const { error: err } = JSON.parse(r.stdout);
  assert.equal(err.code, 'INTERNAL');
  assert.match(err.message, /ended before its work finished/);
});

test('a main that resolves gives its exit code; one that rejects is INTERNAL (70)', async () => {
  assert.equal((await run('async () => 3')).code, 3);
  assert.equal((await run('async () => 0')).code, 0);
  const r = await run('async () => { throw new Error("boom"); }');
  assert.equal(r.code, 70);
  assert.match(r.stderr, /boom/);
});

test('stdout closed by its reader while main works: main goes on and its result is the exit code', async () => {
  // Writes until the pipe breaks, then works on and ends with 3: not cut short with exit 0.
  const main = `async () => {
    const chunk = 'x'.repeat(65536) + '\\n';
    for (let i = 0; i < 200 && !process.stdout.destroyed; i++) {
      process.stdout.write(chunk);
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 100));
    process.stderr.write('finished\\n');
    return 3;
  }`;
  const r = await run(main, [], true);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /finished/);
});

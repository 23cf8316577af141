/**
 * The last resort of SIGINT/SIGTERM handling: a command that does not unwind (an await nothing
 * cancels) still ends, after the grace period or at once on a second signal, with exit 14 and
 * a message saying so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MODULE = fileURLToPath(new URL('./interrupt.js', import.meta.url));

/** A process whose "command" never ends; it prints "ready" once the handlers are installed. */
function stuckCommand(signals: NodeJS.Signals[]): Promise<{ code: number | null; stderr: string; ms: number }> {
  const script = `
    import { Interrupts } from ${JSON.stringify(MODULE)};
    const i = new Interrupts((e) => { process.stderr.write(e.message + '\\n'); process.exit(e.exitCode); }, 1000);
    i.install();
    setInterval(() => {}, 1000);
    process.stdout.write('ready\\n');`;
  return new Promise((res) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let sentAt = 0;
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.once('data', () => {
      sentAt = Date.now();
      // pending signals of one kind are merged: leave time between them
      signals.forEach((s, n) => {
        setTimeout(() => child.kill(s), n * 200);
      });
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (code) => {
      clearTimeout(guard);
      res({ code, stderr, ms: Date.now() - sentAt });
    });
  });
}

test('a command that ignores the interrupt is ended after the grace period (exit 14)', async () => {
  const r = await stuckCommand(['SIGTERM']);
  assert.equal(r.code, 14, r.stderr);
  assert.match(r.stderr, /interrupted by SIGTERM \(cleanup did not finish within 1 s; stopped anyway\)/);
  assert.ok(r.ms >= 900 && r.ms < 5000, `ended ${r.ms} ms after the signal`);
});

test('a second signal ends it at once', async () => {
  const r = await stuckCommand(['SIGINT', 'SIGINT']);
  assert.equal(r.code, 14, r.stderr);
  assert.match(r.stderr, /interrupted by SIGINT \(a second signal \(SIGINT\) arrived/);
  assert.ok(r.ms < 900, `ended ${r.ms} ms after the first signal`);
});

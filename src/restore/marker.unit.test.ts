/**
 * The in-progress marker under a killed writer: a child process rewrites the marker of a
 * directory in a loop and is killed with SIGKILL at a random moment, many times; after every
 * kill the marker on disk (when there is one) parses to what was written, never to "unknown".
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { faultTest } from '../test-support/faults.js';
import { MARKER_FILE, readMarker, writeMarker } from './marker.js';

const markerModule = new URL('./marker.js', import.meta.url).href;

/** Start a child writing markers into `dir` in a loop; resolves once it has written the first one. */
async function startWriter(dir: string): Promise<ReturnType<typeof spawn>> {
  const code = `const { writeMarker } = await import(${JSON.stringify(markerModule)});
    let i = 0; process.stdout.write('go\\n');
    for (;;) await writeMarker(${JSON.stringify(dir)}, 'snap-' + (i++), 'main');`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (c) => reject(new Error(`marker writer exited with ${c} before starting`)));
  });
  return child;
}

faultTest('a marker writer killed at any moment leaves a marker that parses', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgkeep-marker-'));
  try {
    for (let round = 0; round < 25; round++) {
      const child = await startWriter(dir);
      await sleep(5 + Math.floor(Math.random() * 40));
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      const m = await readMarker(dir);
      if (m === undefined) continue; // killed before the first rename: no marker yet is fine
      assert.match(m.snapshot, /^snap-\d+$/, `round ${round}: the marker on disk parses (${JSON.stringify(m)})`);
      assert.equal(m.cluster, 'main');
    }
    // A leftover temporary file is overwritten by the next write; nothing else accumulates.
    await writeMarker(dir, 'last', 'main');
    assert.deepEqual(
      readdirSync(dir).filter((n) => n !== MARKER_FILE),
      [],
      `only the marker is left: ${readdirSync(dir)}`,
    );
    assert.equal((await readMarker(dir))?.snapshot, 'last');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an empty or garbled marker still reads as an interrupted restore of an unknown snapshot', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgkeep-marker-'));
  try {
    for (const content of ['', '{"snapshot":', 'null', '[]', '"x"']) {
      writeFileSync(join(dir, MARKER_FILE), content);
      assert.equal((await readMarker(dir))?.snapshot, 'unknown', `marker content ${JSON.stringify(content)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

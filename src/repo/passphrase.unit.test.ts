import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { passphraseGetter, readPassphrase } from './passphrase.js';

/** An askPassphrase callback answering from a list, recording the prompts. */
function asker(answers: (string | undefined)[]) {
  const prompts: string[] = [];
  return {
    prompts,
    ask: async (prompt: string) => {
      prompts.push(prompt);
      return answers.shift();
    },
  };
}

test('the environment, then the file, come before asking', async () => {
  const a = asker(['typed']);
  assert.equal(await readPassphrase({ fromEnv: true }, { env: { PGKEEP_PASSPHRASE: 'from-env' }, askPassphrase: a.ask }), 'from-env');
  const dir = mkdtempSync(join(tmpdir(), 'pgkeep-pass-'));
  try {
    writeFileSync(join(dir, 'p'), 'from-file\n');
    assert.equal(await readPassphrase({ fromEnv: false, file: join(dir, 'p') }, { env: {}, askPassphrase: a.ask }), 'from-file');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(a.prompts, []);
});

test('otherwise repo/ asks through the callback, with its prompt, once per getter', async () => {
  const a = asker(['typed']);
  const get = passphraseGetter({ fromEnv: false }, { env: {}, askPassphrase: a.ask });
  assert.equal(await get(), 'typed');
  assert.equal(await get(), 'typed');
  assert.deepEqual(a.prompts, ['Repository passphrase: ']);
});

test('a new passphrase is asked twice; two different answers are refused', async () => {
  const same = asker(['new', 'new']);
  assert.equal(
    await readPassphrase({ fromEnv: false }, { env: {}, prompt: 'New repository passphrase: ', confirm: true, askPassphrase: same.ask }),
    'new',
  );
  assert.deepEqual(same.prompts, ['New repository passphrase: ', 'Repeat the passphrase: ']);
  const differ = asker(['new', 'other']);
  await assert.rejects(
    readPassphrase({ fromEnv: false }, { env: {}, confirm: true, askPassphrase: differ.ask }),
    (e: Error & { code?: string }) => e.code === 'PASSPHRASE' && /differ/.test(e.message),
  );
});

test('nobody to ask (no terminal, or no callback): PASSPHRASE naming the ways to give one; an empty answer is refused', async () => {
  for (const askPassphrase of [async () => undefined, undefined]) {
    await assert.rejects(
      readPassphrase({ fromEnv: false }, { env: {}, ...(askPassphrase ? { askPassphrase } : {}) }),
      (e: Error & { code?: string; hint?: string }) =>
        e.code === 'PASSPHRASE' && /no passphrase was given/.test(e.message) && /PGKEEP_PASSPHRASE_FILE/.test(e.hint ?? ''),
    );
  }
  await assert.rejects(readPassphrase({ fromEnv: false }, { env: {}, askPassphrase: async () => '' }), /is empty/);
});

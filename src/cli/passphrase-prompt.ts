/**
 * The passphrase prompt on the terminal (no echo), for repo/passphrase.ts's askPassphrase: repo/
 * decides when to ask, cli/ owns the terminal. Nobody is asked (undefined) unless stdin and
 * stderr are both a terminal. `passphraseGetter` and `readPassphrase` are repo/'s, asking here.
 */
import { PgkeepError } from '../errors.js';
import {
  type AskPassphrase,
  type PassphraseOptions,
  type PassphraseSources,
  passphraseGetter as repoPassphraseGetter,
  readPassphrase as repoReadPassphrase,
} from '../repo/passphrase.js';

/** Ask on the terminal without echo; undefined when stdin or stderr is not a terminal. */
export const askOnTerminal: AskPassphrase = async (prompt) =>
  process.stdin.isTTY && process.stderr.isTTY ? promptHidden(prompt) : undefined;

/** repo/'s passphraseGetter, asking on the terminal. */
export function passphraseGetter(sources: PassphraseSources, opts: PassphraseOptions = {}): () => Promise<string> {
  return repoPassphraseGetter(sources, { askPassphrase: askOnTerminal, ...opts });
}

/** repo/'s readPassphrase, asking on the terminal. */
export function readPassphrase(sources: PassphraseSources, opts: PassphraseOptions = {}): Promise<string> {
  return repoReadPassphrase(sources, { askPassphrase: askOnTerminal, ...opts });
}

/** Read a line from the terminal with echo off. */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let value = '';
    const wasRaw = stdin.isRaw;
    stdin.setRawMode(true);
    stdin.resume();
    const finish = (err?: PgkeepError) => {
      stdin.off('data', onData);
      stdin.setRawMode(wasRaw);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (d: Buffer) => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003') return finish(new PgkeepError('INTERRUPTED', 'interrupted at the passphrase prompt'));
        if (ch === '\u0004') return finish();
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * Where the repository passphrase comes from, in order: PGKEEP_PASSPHRASE, the passphrase file
 * (--passphrase-file, PGKEEP_PASSPHRASE_FILE or [repo] passphrase_file), or a prompt on the
 * terminal without echo. It is read only when an encrypted repository asks for it, and never
 * printed or logged.
 */
import { readFile } from 'node:fs/promises';
import { PgkeepError } from '../errors.js';

export interface PassphraseSources {
  /** PGKEEP_PASSPHRASE is set. */
  fromEnv: boolean;
  file?: string;
}

export interface PassphraseOptions {
  env?: NodeJS.ProcessEnv;
  /** Name of the environment variable (default PGKEEP_PASSPHRASE). */
  envName?: string;
  /** Prompt text for the terminal. */
  prompt?: string;
  /** Ask twice and compare (new passphrases). */
  confirm?: boolean;
}

/** A getPassphrase function for Repository.open / init (memoised: asked at most once). */
export function passphraseGetter(sources: PassphraseSources, opts: PassphraseOptions = {}): () => Promise<string> {
  let cached: Promise<string> | undefined;
  return () => (cached ??= readPassphrase(sources, opts));
}

export async function readPassphrase(sources: PassphraseSources, opts: PassphraseOptions = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const envName = opts.envName ?? 'PGKEEP_PASSPHRASE';
  const fromEnv = env[envName];
  if (fromEnv !== undefined) return nonEmpty(fromEnv, envName);
  if (sources.file) {
    let text: string;
    try {
      text = await readFile(sources.file, 'utf8');
    } catch (e) {
      throw new PgkeepError('PASSPHRASE', `cannot read the passphrase file ${sources.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
        hint: 'check --passphrase-file, PGKEEP_PASSPHRASE_FILE or [repo] passphrase_file',
      });
    }
    return nonEmpty(text.replace(/\r?\n$/, ''), `passphrase file ${sources.file}`);
  }
  if (process.stdin.isTTY && process.stderr.isTTY) {
    const first = await promptHidden(opts.prompt ?? 'Repository passphrase: ');
    if (opts.confirm) {
      const again = await promptHidden('Repeat the passphrase: ');
      if (again !== first) throw new PgkeepError('PASSPHRASE', 'the two passphrases differ', { hint: 'run the command again' });
    }
    return nonEmpty(first, 'the prompt');
  }
  throw new PgkeepError('PASSPHRASE', 'the repository is encrypted and no passphrase was given', {
    hint: `set ${envName} or PGKEEP_PASSPHRASE_FILE, use --passphrase-file, or run on a terminal to be asked`,
  });
}

function nonEmpty(p: string, from: string): string {
  if (p.length === 0) throw new PgkeepError('PASSPHRASE', `the passphrase from ${from} is empty`, { hint: 'give a non-empty passphrase' });
  return p;
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

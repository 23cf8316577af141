/**
 * Where the repository passphrase comes from, in order: PGKEEP_PASSPHRASE, the passphrase file
 * (--passphrase-file, PGKEEP_PASSPHRASE_FILE or [repo] passphrase_file), or the user, asked
 * through the `askPassphrase` callback (cli/ supplies a prompt on the terminal without echo;
 * repo/ never touches the terminal). It is read only when an encrypted repository asks for it,
 * and never printed or logged.
 */
import { readFile } from 'node:fs/promises';
import { PgkeepError } from '../errors.js';

export interface PassphraseSources {
  /** PGKEEP_PASSPHRASE is set. */
  fromEnv: boolean;
  file?: string;
}

/**
 * Ask the user for a passphrase, showing `prompt`; undefined when nobody can be asked (no
 * terminal). Supplied by cli/ (cli/passphrase-prompt.ts).
 */
export type AskPassphrase = (prompt: string) => Promise<string | undefined>;

export interface PassphraseOptions {
  env?: NodeJS.ProcessEnv;
  /** Name of the environment variable (default PGKEEP_PASSPHRASE). */
  envName?: string;
  /** Prompt text when the user is asked. */
  prompt?: string;
  /** Ask twice and compare (new passphrases). */
  confirm?: boolean;
  /** How to ask the user when neither the environment nor a file gives it; without it, nobody is asked. */
  askPassphrase?: AskPassphrase;
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
      throw new PgkeepError(
        'PASSPHRASE',
        `cannot read the passphrase file ${sources.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        {
          hint: 'check --passphrase-file, PGKEEP_PASSPHRASE_FILE or [repo] passphrase_file',
        },
      );
    }
    return nonEmpty(text.replace(/\r?\n$/, ''), `passphrase file ${sources.file}`);
  }
  const first = await opts.askPassphrase?.(opts.prompt ?? 'Repository passphrase: ');
  if (first !== undefined) {
    if (opts.confirm) {
      const again = await opts.askPassphrase?.('Repeat the passphrase: ');
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

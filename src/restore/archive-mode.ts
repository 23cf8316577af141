/**
 * `restore --archive-mode off|preserve`: whether the restored cluster may archive WAL.
 *
 * A restored cluster carries the source's configuration, archive_command included. Once it is
 * promoted it writes a new timeline, and with `preserve` (the default: what a restore that
 * replaces the source wants) it archives that timeline wherever the source did — for a clone, a
 * test restore or a drill, usually the production repository. `off` appends
 * `archive_mode = off` to postgresql.auto.conf, which wins over postgresql.conf.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { PgkeepError } from '../errors.js';
import { parseConfLines, unquoteConf, type ConfValue } from '../pg/conf-file.js';

export type ArchiveModeOption = 'off' | 'preserve';

export function parseArchiveMode(text: string): ArchiveModeOption {
  const t = text.trim().toLowerCase();
  if (t === 'off' || t === 'preserve') return t;
  throw new PgkeepError('USAGE', `invalid --archive-mode "${text}"`, {
    hint: "use preserve (the default: keep the backup's archive settings) or off (the restored cluster archives nothing)",
  });
}

/** Settings written to postgresql.auto.conf for the option, whatever the recovery mode. */
export function archiveModeSettings(option: ArchiveModeOption | undefined): Record<string, ConfValue> {
  return option === 'off' ? { archive_mode: 'off' } : {};
}

export interface RestoredArchiving {
  archiveMode?: string;
  archiveCommand?: string;
  /** The file whose line set archive_mode. */
  archiveModeFrom?: string;
  /** postgresql.conf the restored server reads. */
  configFile: string;
  /** False when that file does not exist: what the server will do is not known from here. */
  known: boolean;
}

/**
 * archive_mode (and archive_command) as the configuration the restored server will really read
 * sets them: `configFile` (default DIR/postgresql.conf — which, for a backup whose configuration
 * lived outside, includes the restored copy of it, external-config.ts; for a Debian cluster,
 * /etc/postgresql/<major>/<name>/postgresql.conf) with the files it includes (include,
 * include_if_exists, include_dir), then DIR/postgresql.auto.conf; the last setting wins, as in
 * the server. archiveMode undefined and known: nothing sets it (the default, off).
 */
export async function restoredArchiveSettings(dataDir: string, configFile = join(dataDir, 'postgresql.conf')): Promise<RestoredArchiving> {
  const out: RestoredArchiving = { configFile, known: existsSync(configFile) };
  const apply = (name: string, value: string, file: string) => {
    if (name === 'archive_mode') {
      out.archiveMode = unquoteConf(value).toLowerCase();
      out.archiveModeFrom = file;
    } else if (name === 'archive_command') out.archiveCommand = unquoteConf(value);
  };
  await readConf(configFile, apply, 0);
  await readConf(join(dataDir, 'postgresql.auto.conf'), apply, 0);
  return out;
}

/** Read one configuration file in order, following its include directives. A missing file is skipped. */
async function readConf(file: string, apply: (name: string, value: string, file: string) => void, depth: number): Promise<void> {
  if (depth > 10) return;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return;
  }
  for (const line of text.split('\n')) {
    const [entry] = parseConfLines(line);
    if (!entry) continue;
    const [name, raw] = entry;
    const value = unquoteConf(raw);
    if (name === 'include' || name === 'include_if_exists') {
      await readConf(resolve(dirname(file), value), apply, depth + 1);
    } else if (name === 'include_dir') {
      const dir = resolve(dirname(file), value);
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const n of names.filter((x) => x.endsWith('.conf') && !x.startsWith('.')).sort()) {
        await readConf(join(dir, n), apply, depth + 1);
      }
    } else {
      apply(name, raw, file);
    }
  }
}

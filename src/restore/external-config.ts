/**
 * The backup's configuration that lived outside the data directory (meta.externalConfig, see
 * src/backup/external-config.ts) written back beside the restored data directory, never over
 * the originals:
 *
 * - the files go to the config directory: `--config-to DIR`, by default `<data dir>.config`;
 *   files that were under the original postgresql.conf's directory keep their place below it
 *   (conf.d/...), others go to other/<original absolute path>. Include directives naming a
 *   stored file or a file of the source's data directory are rewritten to the new place (the old
 *   line stays as a comment). A file already there with other content is refused (nothing is
 *   overwritten unless `overwriteConfig`);
 * - the restored copy uses them: DIR/postgresql.conf includes the restored postgresql.conf,
 *   then sets data_directory (the original names the source's!), hba_file and ident_file to the
 *   copies, and external_pid_file to DIR/external.pid (Debian's names the source's pid file, which
 *   the copy would overwrite, then remove at shutdown; '' makes the server log a failure). So
 *   `pg_ctl start -D DIR`, and restore --start, run the copy on the backup's configuration.
 *   When postgresql.conf was inside the data directory, only these lines are appended to it;
 * - a restore into the data directory of a cluster this host's postgresql-common knows
 *   (Debian layout, start-command.ts) leaves DIR/postgresql.conf alone: pg_ctlcluster reads
 *   /etc/postgresql/<major>/<name>, which pgkeep never writes; the copies are only for reference.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { PgkeepError } from '../errors.js';
import { formatConfLine } from '../pg/conf-file.js';
import type { ExternalConfig, ExternalConfigFile } from '../holdings/physical-meta.js';
import { includeDirectives } from '../pg/conf-includes.js';
import { isInside } from '../path-inside.js';
import { applyOwner, type Owner } from './ownership.js';
import type { RestoredLayout } from './start-command.js';

export interface PlacedConfigFile {
  role: ExternalConfigFile['role'];
  /** Path on the source host. */
  from: string;
  /** Where the restore writes it. */
  to: string;
}

export interface ConfigPlan {
  /** The config directory. */
  dir: string;
  files: PlacedConfigFile[];
  /** Files the backup names but could not store (role, path, why). */
  missing: { role: string; path: string; error: string }[];
  /** DIR/postgresql.conf points the copy at these files (false: a Debian cluster's own configuration is used). */
  used: boolean;
  /** The postgresql.conf the restored server reads (for the archiving report); undefined: DIR/postgresql.conf. */
  configFile?: string;
  /** Internal: the texts to write (path -> text) and the include directories to create. */
  texts: Map<string, string>;
  dirs: string[];
  dataDirBlock?: string;
  /** Replace DIR/postgresql.conf with dataDirBlock (the original was outside), else append it. */
  replaceDataDirConf: boolean;
}

const MARK = '# written by pgkeep restore';

/** Where each stored file goes, and what the restored configuration says. Pure. */
export function planExternalConfig(
  ext: ExternalConfig | undefined,
  dataDir: string,
  layout: RestoredLayout,
  configTo?: string,
): ConfigPlan | undefined {
  if (!ext) return undefined;
  const dir = resolve(configTo ?? `${dataDir}.config`);
  if (dir === resolve(dataDir)) {
    throw new PgkeepError(
      'USAGE',
      `--config-to ${dir} is the data directory itself, where pgkeep writes the postgresql.conf that includes the backup's`,
      {
        hint: 'leave --config-to out (DIR.config beside the data directory), or give another directory (a subdirectory of the data directory works)',
      },
    );
  }
  const main = ext.files.find((f) => f.role === 'config_file');
  const base = dirname(main?.path ?? ext.files[0]?.path ?? ext.includeDirs[0] ?? '/');
  const place = (p: string) => (isInside(base, p) ? join(dir, relative(base, p)) : join(dir, 'other', p));
  const mapPath = (p: string): string | undefined => {
    if (isInside(ext.dataDirectory, p)) return join(dataDir, relative(ext.dataDirectory, p));
    if (ext.files.some((f) => f.path === p && f.text !== undefined) || ext.includeDirs.includes(p)) return place(p);
    return undefined;
  };
  const stored = ext.files.filter((f) => f.text !== undefined);
  const texts = new Map<string, string>();
  for (const f of stored)
    texts.set(place(f.path), f.role === 'hba_file' || f.role === 'ident_file' ? f.text! : rewriteIncludes(f.text!, f.path, mapPath));
  const files = stored.map((f) => ({ role: f.role, from: f.path, to: place(f.path) }));
  const to = (role: string) => files.find((f) => f.role === role)?.to;
  // hba_file/ident_file: the restored copy, or the same file in this data directory when it was in the source's
  const own = (role: 'hba_file' | 'ident_file') => {
    const original = role === 'hba_file' ? ext.locations?.hbaFile : ext.locations?.identFile;
    return to(role) ?? (original && isInside(ext.dataDirectory, original) ? mapPath(original) : undefined);
  };
  const debian = layout.kind === 'debian';
  const lines = [
    `${MARK}: the backup's configuration lived outside the data directory; its copy is in ${dir}`,
    ...(to('config_file') ? [`include '${to('config_file')!.replace(/'/g, "''")}'`] : []),
    `${MARK}: this copy's own files, not the source's`,
    formatConfLine('data_directory', dataDir),
    ...(own('hba_file') ? [formatConfLine('hba_file', own('hba_file')!)] : []),
    ...(own('ident_file') ? [formatConfLine('ident_file', own('ident_file')!)] : []),
    ...(main ? [formatConfLine('external_pid_file', join(dataDir, 'external.pid'))] : []),
  ];
  return {
    dir,
    files,
    missing: ext.files.filter((f) => f.text === undefined).map((f) => ({ role: f.role, path: f.path, error: f.error ?? 'not stored' })),
    used: !debian,
    ...(debian ? { configFile: join(layout.cluster.configDir, 'postgresql.conf') } : {}),
    texts,
    dirs: ext.includeDirs.map(place),
    ...(debian ? {} : { dataDirBlock: lines.join('\n') + '\n' }),
    replaceDataDirConf: Boolean(to('config_file')),
  };
}

/** What the result reports of the plan. */
export function configReport(plan: ConfigPlan): { dir: string; files: PlacedConfigFile[]; used: boolean; missing: ConfigPlan['missing'] } {
  return { dir: plan.dir, files: plan.files, used: plan.used, missing: plan.missing };
}

/**
 * Include directives whose target has a new place (a stored file, the source's data directory)
 * rewritten to it; the original line is kept as a comment. Pure.
 */
export function rewriteIncludes(text: string, file: string, mapPath: (p: string) => string | undefined): string {
  if (includeDirectives(text).length === 0) return text;
  return text
    .split('\n')
    .map((line) => {
      const [d] = includeDirectives(line);
      if (!d) return line;
      const target = mapPath(resolve(dirname(file), d.path));
      return target ? `${d.kind} = '${target.replace(/'/g, "''")}'\t# pgkeep restore, was: ${line.trim()}` : line;
    })
    .join('\n');
}

/** Refuse before anything is written when a file of the config directory would be replaced. */
export async function checkConfigTarget(plan: ConfigPlan | undefined, overwrite: boolean): Promise<void> {
  if (!plan || overwrite) return;
  for (const [path, text] of plan.texts) {
    const current = await readFile(path, 'utf8').catch(() => undefined);
    if (current !== undefined && current !== text) {
      throw new PgkeepError('CONFLICT', `${path} exists with other content; pgkeep does not overwrite configuration files`, {
        hint: `restore the backup's configuration elsewhere with --config-to DIR, or replace it knowingly with --overwrite-config`,
        details: { path, configDir: plan.dir },
      });
    }
  }
}

/** Write the files and, unless the layout's own configuration is used, point DIR/postgresql.conf at them. */
export async function writeExternalConfig(plan: ConfigPlan | undefined, dataDir: string, owner?: Owner): Promise<void> {
  if (!plan) return;
  const made = async (d: string) => {
    const first = await mkdir(d, { recursive: true, mode: 0o750 });
    // every directory mkdir created, from the first one down
    for (let p = d; first && isInside(first, p); p = dirname(p)) await applyOwner(p, owner);
  };
  await made(plan.dir);
  for (const d of plan.dirs) await made(d);
  for (const [path, text] of plan.texts) {
    await made(dirname(path));
    await writeFile(path, text, { mode: /pg_(hba|ident)\.conf$/.test(path) ? 0o640 : 0o644 });
    await applyOwner(path, owner);
  }
  if (!plan.dataDirBlock) return;
  const conf = join(dataDir, 'postgresql.conf');
  const existed = existsSync(conf);
  const current = existed && !plan.replaceDataDirConf ? await readFile(conf, 'utf8') : '';
  await writeFile(conf, `${current}${current && !current.endsWith('\n') ? '\n' : ''}${plan.dataDirBlock}`, { mode: 0o600 });
  if (!existed || plan.replaceDataDirConf) await applyOwner(conf, owner);
}

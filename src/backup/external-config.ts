/**
 * Step "external configuration": postgresql.conf, pg_hba.conf and pg_ident.conf that live
 * outside the data directory (Debian keeps them in /etc/postgresql/<major>/<name>), and the
 * files postgresql.conf includes from outside it (Debian: conf.d/), are not in the data
 * directory's copy. The server names them (config_file, hba_file, ident_file); they are read
 * and stored in the snapshot's meta (`externalConfig`), text as it was, so a restore can give
 * the copy its configuration back (src/restore/external-config.ts).
 *
 * A file that cannot be read (a role without the right to read server files) is recorded with
 * the reason, never silently left out: the restore then says what it lacks.
 */
import { readdir, readFile } from 'node:fs/promises';
import type pg from 'pg';
import { dirname, join, resolve } from 'node:path';
import { includeDirectives } from '../pg/conf-includes.js';
import type { ConfigRole, ExternalConfig } from '../holdings/index.js';
import { isInside } from '../path-inside.js';

/** Where the server's configuration files are (SHOW config_file, hba_file, ident_file, data_directory). */
export interface ConfigLocations {
  dataDirectory: string;
  configFile: string;
  hbaFile: string;
  identFile: string;
}

/** How the files are read: from this host's disk (local) or through the server (stream). */
export interface ConfigReader {
  readFile(path: string): Promise<string>;
  listDir(path: string): Promise<string[]>;
}

/** Bigger files are not configuration: refused rather than stored in the manifest. */
const MAX_BYTES = 4 * 1024 * 1024;
const MAX_DEPTH = 10;

/** Undefined when every file is inside the data directory (the data directory's copy has them). */
export async function collectExternalConfig(at: ConfigLocations, reader: ConfigReader): Promise<ExternalConfig | undefined> {
  const out: ExternalConfig = {
    dataDirectory: at.dataDirectory,
    locations: { configFile: at.configFile, hbaFile: at.hbaFile, identFile: at.identFile },
    files: [],
    includeDirs: [],
  };
  const seen = new Set<string>();
  const outside = (p: string) => !isInside(at.dataDirectory, p);

  const take = async (role: ConfigRole, path: string, optional: boolean): Promise<string | undefined> => {
    if (seen.has(path)) return undefined;
    seen.add(path);
    try {
      const text = await reader.readFile(path);
      if (Buffer.byteLength(text) > MAX_BYTES) throw new Error(`larger than ${MAX_BYTES} bytes`);
      if (outside(path)) out.files.push({ role, path, text });
      return text;
    } catch (e) {
      if (!optional && outside(path)) out.files.push({ role, path, error: (e as Error).message });
      return undefined;
    }
  };

  const walk = async (role: ConfigRole, file: string, optional: boolean, depth: number): Promise<void> => {
    const text = await take(role, file, optional);
    if (text === undefined || depth >= MAX_DEPTH) return;
    for (const d of includeDirectives(text)) {
      const target = resolve(dirname(file), d.path);
      if (d.kind !== 'include_dir') {
        await walk('include', target, d.kind === 'include_if_exists', depth + 1);
        continue;
      }
      let names: string[];
      try {
        names = await reader.listDir(target);
      } catch (e) {
        if (outside(target)) out.files.push({ role: 'include', path: target, error: `include_dir: ${(e as Error).message}` });
        continue;
      }
      if (outside(target) && !out.includeDirs.includes(target)) out.includeDirs.push(target);
      for (const n of names.filter((x) => x.endsWith('.conf') && !x.startsWith('.')).sort()) {
        await walk('include', join(target, n), false, depth + 1);
      }
    }
  };

  await walk('config_file', at.configFile, false, 0);
  if (outside(at.hbaFile)) await take('hba_file', at.hbaFile, false);
  if (outside(at.identFile)) await take('ident_file', at.identFile, false);
  return out.files.length > 0 || out.includeDirs.length > 0 ? out : undefined;
}

/** The locations over SQL (needs superuser or pg_read_all_settings). */
export async function sqlConfigLocations(client: pg.Client): Promise<ConfigLocations> {
  const { rows } = await client.query(`SELECT current_setting('data_directory') AS d, current_setting('config_file') AS c,
    current_setting('hba_file') AS h, current_setting('ident_file') AS i`);
  const r = rows[0];
  return { dataDirectory: r.d, configFile: r.c, hbaFile: r.h, identFile: r.i };
}

/** `local`: the files are on this host. */
export const diskReader: ConfigReader = {
  readFile: (path) => readFile(path, 'utf8'),
  listDir: (path) => readdir(path),
};

/** `stream`: the server reads them (superuser, or pg_read_server_files). */
export function sqlReader(client: pg.Client): ConfigReader {
  return {
    readFile: async (path) => (await client.query('SELECT pg_read_file($1) AS t', [path])).rows[0].t as string,
    listDir: async (path) => (await client.query('SELECT pg_ls_dir($1) AS n', [path])).rows.map((r) => r.n as string),
  };
}

/** The backup goes on without knowing where the configuration is: say what a restore will lack. */
export function configLocationsWarning(e: unknown): string {
  return (
    `cannot learn where the server's configuration files are (config_file, hba_file, ident_file: ${(e as Error).message}); ` +
    'if they live outside the data directory (Debian: /etc/postgresql), this backup does not have them: grant the role pg_read_all_settings'
  );
}

/**
 * The configuration files of a local cluster: the Debian layout (configuration outside the data
 * directory), pg_hba.conf/pg_ident.conf for a copied data directory, and the pgkeep include file
 * that carries port, socket directory, listen address and the settings given to configure().
 */

import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PgkeepError } from '../../errors.js';
import { mergeConf, parseConfLines, renderConfLines, type ConfValue } from '../conf-file.js';
import { hardenHostTrust, hbaFileText, hbaForCopy, type HbaReport } from '../restored-hba.js';
import { chownTreeToServerUser, ensureTraversable } from '../server-user.js';

/** The include file pgkeep owns inside PGDATA; postgresql.conf includes it last. */
export const INCLUDE_FILE = 'pgkeep-local.conf';
export const INCLUDE_LINE = `include_if_exists = '${INCLUDE_FILE}'\t# added by pgkeep's local-cluster manager`;

/** Where a cluster's own settings go and what they are. */
export interface OwnSettingsTarget {
  dataDir: string;
  configDir?: string;
  configFile: string;
  hbaFile: string;
  listen: string;
  port: number;
  socketDir: string;
}

/** The Debian layout: the three configuration files moved to `dir`, which points back at the data directory (the caller records `dir`). */
export function moveConfigOut(dataDir: string, dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const name of ['postgresql.conf', 'pg_hba.conf', 'pg_ident.conf']) {
    writeFileSync(join(dir, name), readFileSync(join(dataDir, name)));
    rmSync(join(dataDir, name));
  }
  appendFileSync(
    join(dir, 'postgresql.conf'),
    `data_directory = '${dataDir}'\nhba_file = '${join(dir, 'pg_hba.conf')}'\nident_file = '${join(dir, 'pg_ident.conf')}'\n`,
  );
  chownTreeToServerUser(dir);
  ensureTraversable(dir);
}

/**
 * A data directory copied from a Debian-style server has no pg_hba.conf/pg_ident.conf (they live
 * in /etc/postgresql): give it ones that let the local superuser in over the private socket (and,
 * with TCP, password logins). The backup's own pg_hba.conf is only hardened: no trust over TCP.
 */
export function prepareAuthFiles(dataDir: string, listen: string): HbaReport {
  const ident = join(dataDir, 'pg_ident.conf');
  if (!existsSync(ident)) {
    writeFileSync(ident, '');
    chownTreeToServerUser(ident);
  }
  const file = join(dataDir, 'pg_hba.conf');
  const tcp = listen.trim() !== '';
  if (!existsSync(file)) {
    const lines = hbaForCopy(tcp);
    writeFileSync(file, hbaFileText(lines), { mode: 0o600 });
    chownTreeToServerUser(file);
    return { file, action: 'written', lines };
  }
  if (!tcp) return { file, action: 'kept', lines: [] };
  const hardened = hardenHostTrust(readFileSync(file, 'utf8'));
  if (hardened.includes.length > 0) {
    throw new PgkeepError(
      'UNSUPPORTED',
      `${file} includes other files (${hardened.includes.join('; ')}), which pgkeep cannot check for trust over TCP`,
      {
        hint: 'start the copy without --listen (unix socket only), or put the included lines into pg_hba.conf itself',
      },
    );
  }
  if (hardened.changed.length === 0) return { file, action: 'kept', lines: [] };
  writeFileSync(file, hardened.text);
  return { file, action: 'hardened', lines: hardened.changed };
}

/** Write port/socket/listen into the include file and make postgresql.conf include it. */
export function writeOwnSettings(c: OwnSettingsTarget): void {
  const conf = c.configFile;
  const text = existsSync(conf) ? readFileSync(conf, 'utf8') : '';
  const include = c.configDir ? join(c.dataDir, INCLUDE_FILE) : INCLUDE_FILE;
  if (!text.includes(`include_if_exists = '${include}'`)) {
    appendFileSync(conf, `${text.endsWith('\n') || text === '' ? '' : '\n'}${INCLUDE_LINE.replace(INCLUDE_FILE, include)}\n`);
  }
  updateIncludeFile(c.dataDir, {
    listen_addresses: c.listen,
    port: c.port,
    unix_socket_directories: c.socketDir,
    // A copied postgresql.conf may name the source's files: the ones pgkeep prepared (and reports) are these.
    hba_file: c.hbaFile,
    ident_file: join(c.configDir ?? c.dataDir, 'pg_ident.conf'),
  });
}

/** Merge settings into the pgkeep include file of the data directory. */
export function updateIncludeFile(dataDir: string, settings: Record<string, ConfValue>): void {
  const file = join(dataDir, INCLUDE_FILE);
  const current = existsSync(file) ? parseConfLines(readFileSync(file, 'utf8')) : new Map<string, string>();
  mergeConf(current, settings);
  writeFileSync(file, renderConfLines(current, "settings written by pgkeep's local-cluster manager; postgresql.conf includes this file"));
  chownTreeToServerUser(file);
}

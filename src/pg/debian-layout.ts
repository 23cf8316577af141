/**
 * The layout of postgresql-common (Debian, Ubuntu), in one place: a cluster is a major version
 * and a name; its configuration lives in /etc/postgresql/<major>/<name> (postgresql.conf,
 * pg_hba.conf, pg_ident.conf, unless postgresql.conf says otherwise), its data by default in
 * /var/lib/postgresql/<major>/<name> (postgresql.conf's data_directory says where), its socket in
 * /var/run/postgresql; it is driven by `pg_ctlcluster <major> <name> <verb>` as root, which the
 * systemd unit postgresql@<major>-<name> runs too. The configuration root is a parameter wherever
 * the host is read, so tests never touch the machine's /etc/postgresql.
 */
import { readdir, readFile, realpath } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseConfLines, unquoteConf } from './conf-file.js';

export const DEBIAN_CONFIG_ROOT = '/etc/postgresql';
export const DEBIAN_DATA_ROOT = '/var/lib/postgresql';
export const DEBIAN_SOCKET_DIR = '/var/run/postgresql';

/** A postgresql-common cluster: its major version ("15") and name ("main"). */
export interface DebianClusterId {
  major: string;
  name: string;
}

/** A cluster this host's postgresql-common knows. */
export interface DebianCluster extends DebianClusterId {
  /** /etc/postgresql/<major>/<name> */
  configDir: string;
  dataDirectory: string;
}

export type DebianVerb = 'start' | 'stop' | 'reload' | 'restart';

/** The configuration directory of a cluster. */
export function debianConfigDir(c: DebianClusterId, root = DEBIAN_CONFIG_ROOT): string {
  return join(root, c.major, c.name);
}

/** Where a cluster's data lives when its postgresql.conf does not say. */
export function debianDefaultDataDir(c: DebianClusterId): string {
  return join(DEBIAN_DATA_ROOT, c.major, c.name);
}

/** The systemd unit of a cluster. */
export function debianUnit(c: DebianClusterId): string {
  return `postgresql@${c.major}-${c.name}`;
}

/** The shell command (run as root) that starts, stops, reloads or restarts a cluster. */
export function debianCtl(c: DebianClusterId, verb: DebianVerb): string {
  return `pg_ctlcluster ${c.major} ${c.name} ${verb}`;
}

const DEBIAN_DATA = /^\/var\/lib\/postgresql\/([^/]+)\/([^/]+)\/?$/;
const DEBIAN_CONF = /^\/etc\/postgresql\/([^/]+)\/([^/]+)\/postgresql\.conf$/;

/**
 * The Debian cluster a running server belongs to, from the paths it reports: its config_file
 * under /etc/postgresql/<major>/<name>, or (config_file not visible) its data directory under
 * /var/lib/postgresql/<major>/<name>; the version directory must be the server's major. Pure.
 */
export function debianClusterFromPaths(p: {
  dataDirectory: string;
  configFile?: string | null;
  major: number;
}): DebianClusterId | undefined {
  const m = p.configFile ? DEBIAN_CONF.exec(p.configFile) : DEBIAN_DATA.exec(p.dataDirectory);
  if (!m || m[1] !== String(p.major)) return undefined;
  return { major: m[1], name: m[2]! };
}

/** The Debian cluster whose data directory is `dataDir`, among the candidates. Pure. */
export function debianClusterOf(dataDir: string, candidates: DebianCluster[]): DebianCluster | undefined {
  const want = resolve(dataDir);
  return candidates.find((c) => resolve(c.dataDirectory) === want);
}

/**
 * The clusters postgresql-common knows on this host (`root`: /etc/postgresql), with their data
 * directories resolved through symlinks. None when the directory does not exist.
 */
export async function debianClusters(root = DEBIAN_CONFIG_ROOT): Promise<DebianCluster[]> {
  const out: DebianCluster[] = [];
  for (const major of await readdir(root).catch(() => [] as string[])) {
    if (!/^\d+(\.\d+)?$/.test(major)) continue;
    for (const name of await readdir(join(root, major)).catch(() => [] as string[])) {
      const configDir = debianConfigDir({ major, name }, root);
      const text = await readFile(join(configDir, 'postgresql.conf'), 'utf8').catch(() => undefined);
      if (text === undefined) continue;
      const set = parseConfLines(text).get('data_directory');
      const dataDirectory = set ? unquoteConf(set) : debianDefaultDataDir({ major, name });
      out.push({ major, name, configDir, dataDirectory: await realpath(dataDirectory).catch(() => dataDirectory) });
    }
  }
  return out;
}

/** The cluster of this host's postgresql-common whose data directory `dataDir` is (through symlinks), if any. */
export async function debianClusterOwning(dataDir: string, root = DEBIAN_CONFIG_ROOT): Promise<DebianCluster | undefined> {
  const real = await realpath(dataDir).catch(() => resolve(dataDir));
  return debianClusterOf(real, await debianClusters(root));
}

/** A cluster's configuration files: its postgresql.conf, and pg_hba.conf / pg_ident.conf where that file sets them. */
export async function debianConfigFiles(c: DebianCluster): Promise<{ configFile: string; hbaFile: string; identFile: string }> {
  const configFile = join(c.configDir, 'postgresql.conf');
  const set = parseConfLines(await readFile(configFile, 'utf8'));
  const named = (name: string, file: string) => resolve(c.configDir, unquoteConf(set.get(name) ?? file));
  return { configFile, hbaFile: named('hba_file', 'pg_hba.conf'), identFile: named('ident_file', 'pg_ident.conf') };
}

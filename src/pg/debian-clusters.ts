/**
 * The clusters of postgresql-common (Debian, Ubuntu): /etc/postgresql/<major>/<name>/postgresql.conf,
 * whose data directory is its data_directory setting, by default /var/lib/postgresql/<major>/<name>.
 * Read-only; the root is a parameter so tests never touch the machine's /etc/postgresql.
 */
import { readdir, readFile, realpath } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseConfLines, unquoteConf } from './conf-file.js';

export const DEBIAN_CONFIG_ROOT = '/etc/postgresql';

export interface DebianCluster {
  major: string;
  name: string;
  /** /etc/postgresql/<major>/<name> */
  configDir: string;
  dataDirectory: string;
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
      const configDir = join(root, major, name);
      const text = await readFile(join(configDir, 'postgresql.conf'), 'utf8').catch(() => undefined);
      if (text === undefined) continue;
      const set = parseConfLines(text).get('data_directory');
      const dataDirectory = set ? unquoteConf(set) : `/var/lib/postgresql/${major}/${name}`;
      out.push({ major, name, configDir, dataDirectory: await realpath(dataDirectory).catch(() => dataDirectory) });
    }
  }
  return out;
}


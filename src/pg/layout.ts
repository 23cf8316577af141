/**
 * How a cluster is laid out and managed on this host, from what the server reports: a Debian
 * (postgresql-common) cluster, as debian-layout.ts describes it, or anything else, driven by
 * pg_ctl -D <data directory> with its files in the data directory unless the server says
 * otherwise. Pure: no I/O, so advice can name the real files and commands.
 */
import { debianConfigDir, debianClusterFromPaths, debianCtl, debianUnit } from './debian-layout.js';

export interface LayoutInput {
  /** The server's data_directory. */
  dataDirectory: string;
  /** The server's config_file (null/undefined when not visible to the role). */
  configFile?: string | null;
  /** The server's hba_file. */
  hbaFile?: string | null;
  /** The server's ident_file. */
  identFile?: string | null;
  /** The server's major version (15, 16...). */
  major: number;
  /** Directory of the server's pg_ctl when it is not on PATH (Debian keeps it in /usr/lib/postgresql/<major>/bin). */
  binDir?: string;
}

export interface ClusterCommands {
  start: string;
  stop: string;
  reload: string;
  restart: string;
}

export interface ClusterLayout {
  kind: 'debian' | 'plain';
  /** For 'debian': the cluster's version and name (pg_ctlcluster <version> <name>). */
  debian?: { version: string; name: string; unit: string };
  dataDirectory: string;
  /** postgresql.conf: the server's config_file, or the one the layout implies. */
  configFile: string;
  hbaFile: string;
  identFile: string;
  /** Shell commands, run as root (debian) or as the server's OS user (plain). */
  commands: ClusterCommands;
}

function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The layout of a cluster, and the commands that manage it. */
export function clusterLayout(input: LayoutInput): ClusterLayout {
  const dataDirectory = input.dataDirectory.replace(/\/+$/, '') || '/';
  const debian = debianClusterFromPaths(input);
  if (debian) {
    const etc = debianConfigDir(debian);
    const c = (verb: keyof ClusterCommands) => debianCtl(debian, verb);
    return {
      kind: 'debian',
      debian: { version: debian.major, name: debian.name, unit: debianUnit(debian) },
      dataDirectory,
      configFile: input.configFile ?? `${etc}/postgresql.conf`,
      hbaFile: input.hbaFile ?? `${etc}/pg_hba.conf`,
      identFile: input.identFile ?? `${etc}/pg_ident.conf`,
      commands: { start: c('start'), stop: c('stop'), reload: c('reload'), restart: c('restart') },
    };
  }
  const d = shellWord(dataDirectory);
  const pgCtl = input.binDir ? shellWord(`${input.binDir.replace(/\/+$/, '')}/pg_ctl`) : 'pg_ctl';
  return {
    kind: 'plain',
    dataDirectory,
    configFile: input.configFile ?? `${dataDirectory}/postgresql.conf`,
    hbaFile: input.hbaFile ?? `${dataDirectory}/pg_hba.conf`,
    identFile: input.identFile ?? `${dataDirectory}/pg_ident.conf`,
    commands: {
      start: `${pgCtl} start -D ${d} -w`,
      stop: `${pgCtl} stop -D ${d} -m fast`,
      reload: `${pgCtl} reload -D ${d}`,
      restart: `${pgCtl} restart -D ${d} -m fast`,
    },
  };
}

/**
 * How the restored cluster is started, for the layout at hand:
 *
 * - Debian: a restore into the data directory of a cluster this host's postgresql-common knows
 *   (/etc/postgresql/<major>/<name>/postgresql.conf names it, by data_directory or by default
 *   /var/lib/postgresql/<major>/<name>): `pg_ctlcluster <major> <name> start`, which reads
 *   /etc/postgresql/<major>/<name> (the systemd unit postgresql@<major>-<name> runs the same);
 * - anything else: pg_ctl with -D (the restored data directory's postgresql.conf, which pgkeep
 *   points at the backup's configuration when that lived outside; see external-config.ts), as
 *   the data directory's owner — from root, through `runuser -u <owner> --`.
 *
 * What a Debian cluster is, and its command: src/pg/debian-layout.ts.
 */
import { DEBIAN_CONFIG_ROOT, debianClusterOwning, debianCtl, type DebianCluster } from '../pg/debian-layout.js';
import { shellQuote } from '../shell-quote.js';
import { findPgBinDir, pgToolPath } from '../pg/bin.js';
import { serverOsUser } from '../pg/server-user.js';

export type RestoredLayout = { kind: 'debian'; cluster: DebianCluster } | { kind: 'plain' };

export interface StartCommandInput {
  dataDir: string;
  layout: RestoredLayout;
  /** pg_ctl of the cluster's major version (absolute path when known). */
  pgCtl: string;
  /** The data directory's owner when pgkeep runs as root (the command then runs as that user). */
  runAs?: string;
}

/** The command to start the restored cluster. Pure. */
export function startCommand(i: StartCommandInput): string {
  if (i.layout.kind === 'debian') return debianCtl(i.layout.cluster, 'start');
  const cmd = `${shellQuote(i.pgCtl)} start -D ${shellQuote(i.dataDir)}`;
  return i.runAs ? `runuser -u ${shellQuote(i.runAs)} -- ${cmd}` : cmd;
}

/** The layout a restore into `dataDir` lands in. */
export async function restoredLayout(dataDir: string, root = DEBIAN_CONFIG_ROOT): Promise<RestoredLayout> {
  const cluster = await debianClusterOwning(dataDir, root);
  return cluster ? { kind: 'debian', cluster } : { kind: 'plain' };
}

/** startCommand with this host's pg_ctl for the major version (pg_bin's first; bare "pg_ctl" when none is installed). */
export async function restoredStartCommand(
  dataDir: string,
  layout: RestoredLayout,
  major: number,
  owner?: string,
  pgBin?: string,
): Promise<string> {
  const pgCtl = await findPgBinDir({ major, pgBin })
    .catch(() => findPgBinDir({ major }))
    .then(
      (b) => pgToolPath(b.binDir, 'pg_ctl'),
      () => 'pg_ctl',
    );
  const root = process.getuid?.() === 0;
  return startCommand({ dataDir, layout, pgCtl, ...(root ? { runAs: owner ?? serverOsUser()?.name ?? 'postgres' } : {}) });
}

/** After the restore: a data directory without postgresql.conf cannot be started by pg_ctl; say what to do. */
export function missingConfigWarning(dataDir: string, layout: RestoredLayout, configKnown: boolean): string[] {
  if (layout.kind === 'debian' || configKnown) return [];
  return [
    `${dataDir} has no postgresql.conf: the backup's configuration lived outside the data directory and is not in this backup ` +
      "(taken by an older pgkeep, without the right to read it, or cold outside postgresql-common's layout); pg_ctl cannot start it until you put postgresql.conf, " +
      "pg_hba.conf and pg_ident.conf there (restore --start works without them, with pgkeep's own minimal settings)",
  ];
}

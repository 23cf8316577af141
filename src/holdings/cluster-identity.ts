/**
 * One cluster name in a repository means one PostgreSQL cluster: the repository object
 * `clusters/<cluster>/identity.json` records the system identifier seen by the first backup (or
 * WAL archive), and everything later must come from the same system. A different identifier —
 * a re-initdb'd server, a copy configured under the old name, the wrong host — is refused
 * rather than mixed into the old cluster's backups and WAL.
 */
import { PgkeepError } from '../errors.js';
import type { Repository } from '../repo/index.js';

export interface ClusterIdentity {
  cluster: string;
  /** Decimal string. */
  systemIdentifier: string;
  /** ISO time the identity was first recorded. */
  recordedAt: string;
}

type IdentityStore = Pick<Repository, 'getObject' | 'putObject' | 'location'>;

export function identityObjectName(cluster: string): string {
  return `clusters/${cluster}/identity.json`;
}

/** The recorded identity, or undefined when the cluster name is new to the repository. */
export async function readClusterIdentity(
  repo: Pick<IdentityStore, 'getObject' | 'location'>,
  cluster: string,
): Promise<ClusterIdentity | undefined> {
  let raw: Buffer;
  try {
    raw = await repo.getObject(identityObjectName(cluster));
  } catch (e) {
    if (e instanceof PgkeepError && e.code === 'NOT_FOUND') return undefined;
    throw e;
  }
  const parsed = JSON.parse(raw.toString('utf8')) as ClusterIdentity;
  if (typeof parsed?.systemIdentifier !== 'string') {
    throw new PgkeepError('DATA_INTEGRITY', `${identityObjectName(cluster)} in ${repo.location} has no system identifier`);
  }
  return parsed;
}

/**
 * Record `systemIdentifier` for `cluster` on first use; afterwards throw CONFLICT when it
 * differs from the recorded one. Returns the identity in force.
 */
export async function checkClusterIdentity(repo: IdentityStore, cluster: string, systemIdentifier: string): Promise<ClusterIdentity> {
  let known = await readClusterIdentity(repo, cluster);
  if (!known) {
    const identity: ClusterIdentity = { cluster, systemIdentifier, recordedAt: new Date().toISOString() };
    const body = Buffer.from(JSON.stringify(identity, null, 2) + '\n', 'utf8');
    const { created } = await repo.putObject(identityObjectName(cluster), body, { ifAbsent: true });
    if (created) return identity;
    known = await readClusterIdentity(repo, cluster); // someone else recorded it first
    if (!known) throw new PgkeepError('REPOSITORY', `cannot record the identity of cluster "${cluster}" in ${repo.location}`);
  }
  if (known.systemIdentifier !== systemIdentifier) {
    throw new PgkeepError(
      'CONFLICT',
      `cluster "${cluster}" in repository ${repo.location} belongs to the PostgreSQL system ${known.systemIdentifier}, ` +
        `but this server is system ${systemIdentifier}`,
      {
        hint:
          'this is a different cluster (re-created with initdb, or another server): back it up under another ' +
          'cluster name (--cluster NAME / [cluster.NAME]), or use another repository',
        details: { cluster, recorded: known.systemIdentifier, server: systemIdentifier },
      },
    );
  }
  return known;
}

/**
 * What a snapshot reference on the command line names. One rule for every command:
 *
 * - an id names that snapshot; the start of an id (as copied from `pgkeep list`) names the one
 *   snapshot whose id starts so, and is refused (USAGE, with the candidates) when several do;
 * - "latest" names the newest snapshot of the kind the command works on: physical for restore and
 *   restore-table, logical for restore-dump, any kind for show and verify (which take both);
 * - "latest-physical" / "latest-logical" name the newest of that kind, in any command that takes it.
 *
 * Newest is by id (ids sort by the time the snapshot was taken), as in `pgkeep list`.
 */
import { PgkeepError } from '../errors.js';
import { isSnapshotId, type Repository, type SnapshotKind, type SnapshotManifest } from '../repo/index.js';

/** The kind a command works on; 'any' for commands that take both. */
export type WantedKind = SnapshotKind | 'any';

export const LATEST_REFS = ['latest', 'latest-physical', 'latest-logical'] as const;

export function isLatestRef(ref: string | undefined): boolean {
  return ref === undefined || (LATEST_REFS as readonly string[]).includes(ref);
}

const NOUN: Record<SnapshotKind, string> = { physical: 'physical backups', logical: 'logical dumps' };
const ONE: Record<SnapshotKind, string> = { physical: 'a physical backup', logical: 'a dump' };
const MAKE: Record<SnapshotKind, string> = { physical: 'pgkeep backup', logical: 'pgkeep dump' };
const RESTORE: Record<SnapshotKind, string> = { physical: 'pgkeep restore', logical: 'pgkeep restore-dump' };

/** The kind `ref` asks for in a command working on `wanted` (USAGE when the two disagree). */
function kindOf(ref: string, wanted: WantedKind): WantedKind {
  const asked: WantedKind = ref === 'latest' ? wanted : ref === 'latest-physical' ? 'physical' : 'logical';
  if (wanted !== 'any' && asked !== wanted) {
    throw new PgkeepError('USAGE', `"${ref}" names a ${asked} snapshot, but this command works on ${NOUN[wanted]}`, {
      hint: `give "latest" (the newest of the ${NOUN[wanted]}) or a snapshot id; "pgkeep list" shows the kind of every snapshot`,
    });
  }
  return asked;
}

/** What resolving a reference reads of the repository. */
export type SnapshotRefSource = Pick<Repository, 'readSnapshots' | 'listSnapshotIds' | 'location'>;

/**
 * The id `ref` names (see the module comment). NOT_FOUND, with what else the cluster holds, when
 * there is no snapshot of the kind; an id that names none is returned as given (reading it
 * reports it missing, with the ids that exist).
 */
export async function resolveSnapshotRef(repo: SnapshotRefSource, cluster: string, ref: string, wanted: WantedKind): Promise<string> {
  if (!isLatestRef(ref)) return isSnapshotId(ref) ? ref : idByPrefix(repo, cluster, ref);
  const kind = kindOf(ref, wanted);
  const { matching, total } = await readableSnapshots(repo, cluster, kind);
  const newest = matching.pop();
  if (newest) return newest.id;
  if (kind === 'any') {
    throw new PgkeepError('NOT_FOUND', `cluster "${cluster}" has no snapshots in ${repo.location}`, {
      hint: 'take one with "pgkeep backup" or "pgkeep dump", or check --cluster and --repo',
      details: { cluster },
    });
  }
  const other: SnapshotKind = kind === 'physical' ? 'logical' : 'physical';
  throw new PgkeepError('NOT_FOUND', `cluster "${cluster}" has no ${NOUN[kind]} in ${repo.location}`, {
    hint: total
      ? `it has only ${NOUN[other]} (${total}; "pgkeep list" shows them), which "${RESTORE[other]}" restores; take ${ONE[kind]} with "${MAKE[kind]}"`
      : `take one with "${MAKE[kind]}", or check --cluster and --repo`,
    details: { cluster, kind },
  });
}

async function idByPrefix(repo: Pick<Repository, 'listSnapshotIds'>, cluster: string, prefix: string): Promise<string> {
  return idAmong(await repo.listSnapshotIds(cluster), cluster, prefix);
}

/**
 * The one id of `ids` that starts with `prefix` (an id itself, or the start of one); USAGE with
 * the candidates when several do; `prefix` itself when none does. For a set other than the
 * cluster's snapshots (the pinned ids, which may outlive their snapshot).
 */
export function idAmong(ids: readonly string[], cluster: string, prefix: string): string {
  if (ids.includes(prefix)) return prefix;
  const matching = prefix ? ids.filter((id) => id.startsWith(prefix)) : [];
  if (matching.length === 1) return matching[0]!;
  if (matching.length > 1) {
    throw new PgkeepError(
      'USAGE',
      `"${prefix}" is the start of ${matching.length} snapshot ids of cluster "${cluster}": ${matching.slice(0, 10).join(', ')}${matching.length > 10 ? ', ...' : ''}`,
      {
        hint: 'give more of the id ("pgkeep list" shows them)',
        details: { cluster, prefix, matching },
      },
    );
  }
  return prefix;
}

/**
 * The cluster's snapshots of `kind` whose manifest can be read, oldest first, and how many
 * readable snapshots it has in all. A damaged manifest is passed over unless it is newer than
 * every readable snapshot of the kind: then it may have been the newest one (its kind cannot be
 * read), and its DATA_INTEGRITY error is thrown rather than falling back to an older snapshot
 * without a word.
 */
export async function readableSnapshots(
  repo: Pick<Repository, 'readSnapshots'>,
  cluster: string,
  kind: WantedKind,
): Promise<{ matching: SnapshotManifest[]; total: number }> {
  const { manifests, damaged } = await repo.readSnapshots(cluster);
  const matching = kind === 'any' ? manifests : manifests.filter((m) => m.kind === kind);
  const newest = matching[matching.length - 1];
  const newer = damaged.filter((d) => !newest || d.id > newest.id).pop();
  if (newer) throw newer.error;
  return { matching, total: manifests.length };
}

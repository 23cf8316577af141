/** `pgkeep restore-dump <id> --list`: the objects of a dump, from the TOC stored in its meta. */
import type { Repository } from '../../repo/index.js';
import { loadDumpSnapshot } from './index.js';

export interface DumpListing {
  snapshotId: string;
  format: string;
  scope: string;
  pgDumpVersion: string;
  serverVersion: string;
  options: Record<string, unknown>;
  globals?: { bytes: number; noRolePasswords: boolean };
  databases: {
    name: string;
    bytes: number;
    note?: string;
    entries: { dumpId: number; type: string; schema: string | null; name: string; owner: string }[];
  }[];
}

export async function listDump(repo: Repository, clusterName: string, id: string, opts: { database?: string } = {}): Promise<DumpListing> {
  const { snapshot, meta } = await loadDumpSnapshot(repo, clusterName, id);
  return {
    snapshotId: snapshot.id,
    format: meta.format,
    scope: meta.scope,
    pgDumpVersion: meta.pgDumpVersion,
    serverVersion: meta.serverVersion,
    options: meta.options,
    ...(meta.globals ? { globals: { bytes: meta.globals.bytes, noRolePasswords: meta.globals.noRolePasswords } } : {}),
    databases: meta.databases
      .filter((d) => opts.database === undefined || d.name === opts.database)
      .map((d) => ({
        name: d.name,
        bytes: d.bytes,
        ...(d.tocNote ? { note: d.tocNote } : {}),
        entries: (d.toc?.entries ?? []).map((e) => ({
          dumpId: e.dumpId,
          type: e.type,
          schema: e.schema ?? null,
          name: e.name,
          owner: e.owner,
        })),
      })),
  };
}

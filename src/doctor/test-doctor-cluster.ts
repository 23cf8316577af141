/**
 * The one cluster of doctor.test.ts and what its tests share: a backup-ready configuration that
 * each test breaks and puts back, a repository archive_command writes into, and helpers to run
 * the doctor against it. The bindings (cluster, work, repoDir, originalHba) are set by
 * startDoctorCluster (the test file's before()).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ClusterSettings } from '../config/types.js';
import { LocalCluster } from '../pg/local-cluster.js';
import { chownTreeToServerUser, serverOsUser } from '../pg/server-user.js';
import { newPosixRepo } from '../repo/test-utils.js';
import { runDoctor, type DoctorCheck, type DoctorMethod, type DoctorOptions } from './index.js';

export const execFileP = promisify(execFile);
/** pg_ctl advice runs it as the server's OS user when the tests run as root. */
export const asServer = serverOsUser() ? `sudo -u ${serverOsUser()!.name} ` : '';
export const BIN = fileURLToPath(new URL('../../bin/pgkeep.js', import.meta.url));

export let cluster: LocalCluster;
export let work: string;
export let repoDir: string;
export let originalHba: string;

/** The real CLI as archive_command, as the server runs it (its own flags only). */
export function pgkeepCommand(flags: string): string {
  return `env -u PGKEEP_CONFIG ${process.execPath} ${BIN} ${flags} wal push %p`;
}

/** A backup-ready configuration; each test breaks one thing and puts it back. */
export function healthy(): Record<string, string | number> {
  return {
    wal_level: 'replica',
    max_wal_senders: 10,
    max_replication_slots: 10,
    archive_timeout: 60,
    fsync: 'off',
    archive_mode: 'on',
    archive_command: pgkeepCommand(`--repo ${repoDir} --cluster main`),
  };
}

export async function startDoctorCluster(): Promise<void> {
  work = mkdtempSync(join(tmpdir(), 'pgkeep-doctor-test-'));
  chmodSync(work, 0o755);
  // The repository archive_command writes into belongs to the server's OS user.
  repoDir = join(work, 'repo');
  mkdirSync(repoDir);
  await (await newPosixRepo(repoDir)).close();
  chownTreeToServerUser(repoDir);
  cluster = await LocalCluster.create();
  await cluster.configure(healthy());
  await cluster.start();
  originalHba = readFileSync(join(cluster.dataDir, 'pg_hba.conf'), 'utf8');
  await cluster.exec('CREATE ROLE app LOGIN');
}

export async function stopDoctorCluster(): Promise<void> {
  await cluster?.destroy();
  rmSync(work, { recursive: true, force: true });
}

export async function doctor(methods: DoctorMethod[], settings: ClusterSettings = cluster.connectionSettings(), opts: DoctorOptions = {}) {
  const report = await runDoctor(settings, { methods, ...opts });
  const get = (id: string): DoctorCheck => {
    const c = report.checks.find((x) => x.check === id);
    assert.ok(c, `check ${id} missing; got ${report.checks.map((x) => x.check).join(', ')}`);
    return c;
  };
  return { report, get };
}

export function asRole(role: string, pgdata?: string): ClusterSettings {
  return { connection: cluster.connectionString('postgres', role), ...(pgdata ? { pgdata } : {}), pgBin: cluster.binDir };
}

export async function reconfigure(settings: Record<string, string | number>): Promise<void> {
  await cluster.configure(settings);
  await cluster.restart();
}

/** Wait (at most `ms`) until `probe` returns true. */
export async function until(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${what}: not within ${ms / 1000}s; server log:\n${cluster.logTail(20)}`);
}

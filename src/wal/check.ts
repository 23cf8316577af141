/**
 * `wal check`: is the archive continuous, per timeline, and how far can each physical backup be
 * recovered? For every backup: follow the timeline recovery would take (the newest one descending
 * from the backup's start, through the .history files), walk the segments from the backup's
 * walStart to the newest archived one, list the missing ones, and give the recoverable window
 * (from the backup's end to the end of the last segment reachable without a gap).
 *
 * Every .history file is read and checked as PostgreSQL writes it. With readData every archived
 * file is read back and checked (holdings/wal-read.ts); a damaged segment counts as missing, so the
 * windows show what recovery can really replay.
 */
import { PgkeepError } from '../errors.js';
import type { Repository, SnapshotManifest } from '../repo/index.js';
import type { PhysicalBackupMeta } from '../holdings/physical-meta.js';
import { readPhysicalMeta } from '../holdings/read-physical-meta.js';
import { formatLsn, parseLsn, segmentOfLsn, type Lsn } from '../pg/lsn.js';
import { parseTimelineHistory, segmentNumberOf, walFileName, type TimelineHistoryEntry } from '../pg/wal-name.js';
import { listArchive, type ArchivedSystem } from '../holdings/wal-listing.js';
import { readSegmentHeader } from '../pg/wal/identify.js';
import { targetTimeline, timelineOfSegment, timelinePath } from '../pg/wal/timelines.js';
import { timelineHistoryProblems } from '../pg/history-file-check.js';
import { readArchivedFiles, type DamagedWalFile } from '../holdings/wal-read.js';

export interface WalGap {
  /** First and last missing segment. */
  from: string;
  to: string;
  count: number;
}

export interface TimelineReport {
  systemIdentifier: string;
  timeline: number;
  first: string;
  last: string;
  segments: number;
  partials: string[];
  backupFiles: number;
  /** Missing segments between first and last. */
  gaps: WalGap[];
  /** Timelines above 1 need their .history file for recovery to follow them. */
  historyFile: boolean;
}

export type BackupWalStatus = 'ok' | 'gap' | 'unrecoverable' | 'self-contained';

export interface BackupWindow {
  id: string;
  systemIdentifier: string;
  timeline: number;
  /** The timeline recovery follows from this backup (the newest descending from it). */
  targetTimeline: number;
  method: string;
  standalone: boolean;
  walStart: string;
  walEnd: string;
  stopLsn: string;
  stopTime: string;
  status: BackupWalStatus;
  /** Recoverable from (the backup's end) ... */
  from: string;
  /** ... to this LSN (end of the last reachable segment); absent when unrecoverable. */
  to?: string;
  /** Last segment reachable without a gap. */
  lastSegment?: string;
  /** Missing segments on the way to the newest archived one. */
  gaps: WalGap[];
  message: string;
}

export interface WalCheckReport {
  cluster: string;
  timelines: TimelineReport[];
  backups: BackupWindow[];
  /** Problems found (missing history files, undecidable segment size...). */
  problems: string[];
  /** Snapshots whose manifest is damaged: their window cannot be checked (the others are). */
  damagedManifests: { id: string; message: string }[];
  /** Archived files that are damaged or malformed (every .history file; with readData every file). */
  damaged: DamagedWalFile[];
  /** Files read back and found right (readData), and whether contents were read at all. */
  filesRead: number;
  readData: boolean;
  /** False when a backup cannot reach its window (status gap or unrecoverable) or a file is damaged. */
  ok: boolean;
}

export interface WalCheckOptions {
  /** Read every archived file back and check its content (else only listings and .history files). */
  readData?: boolean;
  /** Files read at once with readData. */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

type CheckRepo = Pick<Repository, 'listObjects' | 'readSnapshots' | 'getObject'>;

export async function checkArchive(repo: CheckRepo, cluster: string, opts: WalCheckOptions = {}): Promise<WalCheckReport> {
  const systems = await listArchive(repo, cluster);
  const snapshots = await repo.readSnapshots(cluster);
  const backups = snapshots.manifests.filter((m) => m.kind === 'physical');
  const report: WalCheckReport = {
    cluster,
    timelines: [],
    backups: [],
    problems: [],
    damaged: [],
    filesRead: 0,
    readData: Boolean(opts.readData),
    ok: true,
    damagedManifests: snapshots.damaged.map((d) => ({ id: d.id, message: d.error.message })),
  };
  if (opts.readData) await readEverything(repo, systems, opts, report);
  const sysIds = new Set([...systems.keys(), ...backups.map((b) => meta(b).systemIdentifier)]);
  for (const sysId of [...sysIds].sort()) {
    const system = systems.get(sysId) ?? { systemIdentifier: sysId, files: [], histories: new Map(), storedBytes: 0 };
    const own = backups.filter((b) => meta(b).systemIdentifier === sysId);
    const segSize = await segmentSizeOf(repo, system, own);
    if (segSize === undefined) continue; // no segments and no backups: nothing to check
    const histories = await readHistories(repo, system, report);
    const present = segmentsByTimeline(system, segSize);
    report.timelines.push(...timelineReports(system, present, histories, segSize));
    for (const b of own) report.backups.push(backupWindow(b, present, histories, segSize));
  }
  for (const t of report.timelines) {
    if (t.timeline > 1 && !t.historyFile) {
      report.problems.push(
        `timeline ${t.timeline} of system ${t.systemIdentifier} has no ${hex8(t.timeline)}.history in the archive: recovery cannot switch to it`,
      );
    }
  }
  report.ok =
    report.damaged.length === 0 &&
    report.damagedManifests.length === 0 &&
    report.backups.every((b) => b.status === 'ok' || b.status === 'self-contained');
  return report;
}

/** Read every archived file; damaged ones are reported and dropped from the listing (they count as missing). */
async function readEverything(
  repo: CheckRepo,
  systems: Map<string, ArchivedSystem>,
  opts: WalCheckOptions,
  report: WalCheckReport,
): Promise<void> {
  const files = [...systems.values()].flatMap((s) =>
    [...s.files, ...s.histories.values()].map((file) => ({ file, systemIdentifier: s.systemIdentifier })),
  );
  const r = await readArchivedFiles(repo, files, { concurrency: opts.concurrency, signal: opts.signal, onProgress: opts.onProgress });
  report.filesRead = r.read;
  report.damaged.push(...r.damaged);
  const bad = new Set(r.damaged.map((d) => d.key));
  for (const s of systems.values()) {
    s.files = s.files.filter((f) => !bad.has(f.key));
    for (const [tli, f] of s.histories) if (bad.has(f.key)) s.histories.delete(tli);
  }
}

function meta(m: SnapshotManifest): PhysicalBackupMeta {
  return readPhysicalMeta(m);
}

const hex8 = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');

/** Segment size: from a backup's meta, else from one archived segment's page header. */
async function segmentSizeOf(repo: CheckRepo, system: ArchivedSystem, backups: SnapshotManifest[]): Promise<number | undefined> {
  const fromMeta = backups.map((b) => meta(b).walSegmentSize).find((s) => typeof s === 'number' && s > 0);
  if (fromMeta) return fromMeta;
  const seg = system.files.find((f) => f.file.kind === 'segment');
  if (!seg) return undefined;
  return readSegmentHeader(await repo.getObject(seg.object), `archived ${seg.file.name}`).segmentSize;
}

async function readHistories(
  repo: CheckRepo,
  system: ArchivedSystem,
  report: WalCheckReport,
): Promise<Map<number, TimelineHistoryEntry[]>> {
  const out = new Map<number, TimelineHistoryEntry[]>();
  for (const [tli, f] of system.histories) {
    const damaged = (problem: string) => report.damaged.push({ file: f.file.name, key: f.key, problem });
    let data: Buffer;
    try {
      data = await repo.getObject(f.object);
    } catch (e) {
      if (!(e instanceof PgkeepError)) throw e;
      damaged(e.message);
      continue;
    }
    const problems = timelineHistoryProblems(data, tli);
    if (problems.length) damaged(`not a valid timeline history: ${problems.join('; ')}`);
    else out.set(tli, parseTimelineHistory(data));
  }
  return out;
}

/** Segment numbers archived per timeline (complete segments only). */
function segmentsByTimeline(system: ArchivedSystem, segSize: number): Map<number, Set<bigint>> {
  const out = new Map<number, Set<bigint>>();
  for (const f of system.files) {
    if (f.file.kind !== 'segment') continue;
    let s = out.get(f.file.timeline);
    if (!s) out.set(f.file.timeline, (s = new Set()));
    s.add(segmentNumberOf(f.file, segSize));
  }
  return out;
}

function timelineReports(
  system: ArchivedSystem,
  present: Map<number, Set<bigint>>,
  histories: Map<number, TimelineHistoryEntry[]>,
  segSize: number,
): TimelineReport[] {
  const tlis = new Set<number>([...present.keys(), ...system.histories.keys()]);
  const out: TimelineReport[] = [];
  for (const tli of [...tlis].sort((a, b) => a - b)) {
    const segs = [...(present.get(tli) ?? [])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const files = system.files.filter((f) => f.file.timeline === tli);
    const gaps: WalGap[] = [];
    for (let i = 1; i < segs.length; i++) {
      if (segs[i]! - segs[i - 1]! > 1n) gaps.push(gap(tli, segs[i - 1]! + 1n, segs[i]! - 1n, segSize));
    }
    out.push({
      systemIdentifier: system.systemIdentifier,
      timeline: tli,
      first: segs.length ? walFileName(tli, segs[0]!, segSize) : '',
      last: segs.length ? walFileName(tli, segs[segs.length - 1]!, segSize) : '',
      segments: segs.length,
      partials: files.filter((f) => f.file.kind === 'partial').map((f) => f.file.name),
      backupFiles: files.filter((f) => f.file.kind === 'backup').length,
      gaps,
      historyFile: system.histories.has(tli) || histories.has(tli),
    });
  }
  return out;
}

function gap(tli: number, from: bigint, to: bigint, segSize: number): WalGap {
  return { from: walFileName(tli, from, segSize), to: walFileName(tli, to, segSize), count: Number(to - from + 1n) };
}

function backupWindow(
  m: SnapshotManifest,
  present: Map<number, Set<bigint>>,
  histories: Map<number, TimelineHistoryEntry[]>,
  segSize: number,
): BackupWindow {
  const b = meta(m);
  const startLsn = parseLsn(b.startLsn);
  const stopLsn = parseLsn(b.stopLsn);
  const target = targetTimeline(b.timeline, startLsn, histories);
  const path = timelinePath(target, histories.get(target) ?? []);
  const first = b.walStart ? segmentNumberOf(b.walStart, segSize) : segmentOfLsn(startLsn, segSize);
  const last = b.walEnd ? segmentNumberOf(b.walEnd, segSize) : segmentOfLsn(stopLsn, segSize);
  // Segments inside the snapshot (standalone) or not needed at all (cold) count as present.
  const selfContained = b.standalone || !b.walStart;
  const has = (s: bigint) => (selfContained && s <= last) || Boolean(present.get(timelineOfSegment(path, s, segSize))?.has(s));
  // The newest segment archived on the path.
  let newest = -1n;
  for (const span of path) {
    const from = segmentOfLsn(span.begin, segSize);
    const to = span.end === undefined ? undefined : segmentOfLsn(span.end, segSize);
    for (const s of present.get(span.timeline) ?? []) {
      if (s >= from && (to === undefined || s < to) && s > newest) newest = s;
    }
  }
  const gaps: WalGap[] = [];
  let firstMissing: bigint | undefined;
  for (let s = first; s <= newest; s++) {
    if (has(s)) continue;
    firstMissing ??= s;
    const tli = timelineOfSegment(path, s, segSize);
    const g = gaps[gaps.length - 1];
    if (g && g.to === walFileName(tli, s - 1n, segSize)) {
      g.to = walFileName(tli, s, segSize);
      g.count++;
    } else gaps.push(gap(tli, s, s, segSize));
  }
  const base = {
    id: m.id,
    systemIdentifier: b.systemIdentifier,
    timeline: b.timeline,
    targetTimeline: target,
    method: b.method,
    standalone: b.standalone,
    walStart: b.walStart,
    walEnd: b.walEnd,
    stopLsn: b.stopLsn,
    stopTime: b.stopTime,
    from: b.stopLsn,
    gaps,
  };
  const segName = (s: bigint) => walFileName(timelineOfSegment(path, s, segSize), s, segSize);
  const endOf = (s: bigint) => formatLsn(((s + 1n) * BigInt(segSize)) as Lsn);
  if (newest < last && !selfContained) {
    const missingEnd = firstMissing ?? (newest < first ? first : newest + 1n);
    return {
      ...base,
      status: 'unrecoverable',
      gaps: gaps.length ? gaps : [gap(timelineOfSegment(path, missingEnd, segSize), missingEnd, last, segSize)],
      message: `WAL up to ${b.walEnd} is needed to make this backup consistent, but the archive ends ${newest >= 0n ? `at ${segName(newest)}` : 'before it'}`,
    };
  }
  if (firstMissing !== undefined && firstMissing <= last && !selfContained) {
    return {
      ...base,
      status: 'unrecoverable',
      message: `${segName(firstMissing)} is missing: the backup cannot be made consistent (it needs ${b.walStart} .. ${b.walEnd})`,
    };
  }
  if (firstMissing === undefined) {
    if (newest < last) {
      return { ...base, status: 'self-contained', message: 'no archived WAL after this backup: it restores to its own end point only' };
    }
    return {
      ...base,
      status: 'ok',
      to: endOf(newest),
      lastSegment: segName(newest),
      message: `recoverable from ${b.stopLsn} (${b.stopTime}) to ${endOf(newest)} (end of ${segName(newest)}) on timeline ${target}`,
    };
  }
  const reach = firstMissing - 1n;
  return {
    ...base,
    status: 'gap',
    to: endOf(reach),
    lastSegment: segName(reach),
    message: `recoverable only to ${endOf(reach)}: ${segName(firstMissing)} is missing (${gaps.reduce((n, g) => n + g.count, 0)} segment(s) missing before the newest, ${segName(newest)})`,
  };
}

// One step of the memory benchmark, in its own process so its peak RSS (VmHWM) is its own:
//   node sparse-child.mjs make <dataDir> <sizeGiB> [segmentMiB=1024]   sparse segment files (holes)
//   node sparse-child.mjs init <repoDir> [chunkSize]
//   node sparse-child.mjs backup <repoDir> <dataDir>      a snapshot (incremental to the last one)
//   node sparse-child.mjs restore <repoDir> <targetDir>   the last snapshot, into an empty directory
// Prints one JSON line: what it did, seconds and peak RSS in MiB.
import { mkdirSync, openSync, ftruncateSync, writeSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dist = new URL('../../dist/', import.meta.url);
const load = (p) => import(new URL(p, dist).href);
const [op, a, b, c] = process.argv.slice(2);
const began = Date.now();
const peakMiB = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;

async function openRepo(dir) {
  const { Repository } = await load('repo/repository.js');
  const { PosixDriver } = await load('repo/storage/posix/index.js');
  return Repository.open(new PosixDriver(dir), { jobs: 2 });
}

let out = {};
if (op === 'make') {
  // base/5/16384, .1, .2 ...: 1 GiB each, all holes except one 8 KiB page of data per segment
  const dir = join(a, 'base', '5');
  mkdirSync(dir, { recursive: true });
  writeFileSafe(join(a, 'PG_VERSION'), '15\n');
  const segMiB = Number(c ?? 1024);
  const segs = Math.ceil((Number(b) * 1024) / segMiB);
  for (let i = 0; i < segs; i++) {
    const fd = openSync(join(dir, i === 0 ? '16384' : `16384.${i}`), 'w');
    const page = Buffer.alloc(8192, 0);
    page.write(`segment ${i}`, 0);
    writeSync(fd, page, 0, page.length, (i * 7919 * 8192) % (segMiB * 1024 * 1024));
    ftruncateSync(fd, segMiB * 1024 * 1024);
    closeSync(fd);
  }
  out = { segments: segs };
} else if (op === 'init') {
  const { Repository } = await load('repo/repository.js');
  const { PosixDriver } = await load('repo/storage/posix/index.js');
  await Repository.init(new PosixDriver(a), { jobs: 2, ...(b ? { chunkSize: Number(b) } : {}) });
} else if (op === 'backup') {
  const repo = await openRepo(a);
  const { buildFileList } = await load('backup/file-list.js');
  const { copyFiles } = await load('backup/copy-files.js');
  const { manifests } = await repo.readSnapshots('bench');
  const previous = manifests.at(-1);
  const list = await buildFileList(b, { mode: 'cold', major: 15 });
  const writer = await repo.startSnapshot({ cluster: 'bench', kind: 'physical', previous, jobs: 2 });
  const copy = await copyFiles({ writer, entries: list.entries, jobs: 2, reuseBefore: c === 'reuse' ? Date.now() : undefined });
  const m = await writer.commit({});
  out = {
    snapshot: m.id,
    files: m.stats.files,
    logicalGiB: m.stats.logicalBytes / 2 ** 30,
    storedMiB: m.stats.storedBytes / 2 ** 20,
    newChunks: m.stats.newChunks,
    reusedChunks: m.stats.reusedChunks,
    reusedFiles: copy.reusedFiles,
    parts: m.parts.length,
  };
} else if (op === 'restore') {
  const repo = await openRepo(a);
  const { manifests } = await repo.readSnapshots('bench');
  const snap = await repo.readSnapshot('bench', manifests.at(-1).id);
  let files = 0;
  for await (const r of snap.files()) {
    files++;
    if (r.type === 'directory') mkdirSync(join(b, r.path), { recursive: true });
    if (r.type !== 'file') continue;
    const fd = openSync(join(b, r.path), 'w');
    try {
      await repo.writeFile(snap, r, fd);
    } finally {
      closeSync(fd);
    }
  }
  out = { files };
} else {
  throw new Error(`unknown step ${op}`);
}
console.log(JSON.stringify({ op, ...out, seconds: (Date.now() - began) / 1000, peakRssMiB: Math.round(peakMiB()) }));

function writeFileSafe(path, text) {
  const fd = openSync(path, 'w');
  writeSync(fd, text);
  closeSync(fd);
}

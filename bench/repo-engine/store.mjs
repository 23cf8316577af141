// pgkeep side of the benchmark (run.mjs drives it): store a directory tree as one snapshot, or read it back.
// Usage: node store.mjs store <dataDir> <repoDir> [jobs]   |   node store.mjs read <repoDir> - [jobs]
// Both sides work on `jobs` files at once.
import { createReadStream, promises as fsp } from 'node:fs';
import { join, relative } from 'node:path';
import { Repository } from '../../dist/repo/index.js';
import { PosixDriver } from '../../dist/repo/storage/index.js';

const [mode, a, b, jobsArg] = process.argv.slice(2);
const jobs = Number(jobsArg ?? 2);

async function* walk(root, dir = root) {
  for (const d of await fsp.readdir(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    if (d.isDirectory()) yield* walk(root, p);
    else if (d.isFile()) yield p;
  }
}

const t0 = process.hrtime.bigint();
let bytes = 0;
if (mode === 'store') {
  const repo = await Repository.init(new PosixDriver(b), {
    compression: 'zstd:3',
    jobs,
    packSize: Number(process.env.PACK_MIB ?? 32) * 1048576,
  });
  const w = await repo.startSnapshot({ cluster: 'bench', kind: 'physical', jobs });
  const files = [];
  for await (const f of walk(a)) files.push(f);
  let next = 0;
  const reader = async () => {
    while (next < files.length) {
      const f = files[next++];
      const st = await fsp.stat(f);
      await w.addFile(
        { path: relative(a, f), type: 'file', mode: st.mode & 0o7777, mtimeMs: st.mtimeMs },
        createReadStream(f, { highWaterMark: 1024 * 1024 }),
      );
      bytes += st.size;
    }
  };
  await Promise.all([reader(), reader()]);
  const m = await w.commit({});
  await repo.close();
  console.log(
    JSON.stringify({
      bytes,
      stored: m.stats.storedBytes,
      seconds: Number(process.hrtime.bigint() - t0) / 1e9,
      maxRssKiB: process.resourceUsage().maxRSS,
    }),
  );
} else {
  const repo = await Repository.open(new PosixDriver(a), { jobs });
  const snap = await repo.readSnapshot('bench', 'latest');
  const records = [];
  for await (const rec of snap.files()) records.push(rec);
  // as many files at once as the store side reads (and a restore writes): the read-ahead of one
  // file does not cross into the next, so one reader alone leaves the workers idle between files
  let next = 0;
  const reader = async () => {
    while (next < records.length) {
      const rec = records[next++];
      for await (const c of repo.readFile(snap, rec)) bytes += c.length;
    }
  };
  await Promise.all(Array.from({ length: jobs }, reader));
  await repo.close();
  console.log(JSON.stringify({ bytes, seconds: Number(process.hrtime.bigint() - t0) / 1e9, maxRssKiB: process.resourceUsage().maxRSS }));
}

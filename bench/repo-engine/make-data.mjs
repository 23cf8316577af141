// Builds a synthetic "data directory" of about SIZE bytes whose content resembles the rows of
// ../../shared/bench/dataset.sql (ids, timestamps, statuses, md5 notes, small JSON) laid out in
// 8 KiB pages and 1 GiB segment files, so it compresses about like that table does (~2.5x).
// Usage: node make-data.mjs <dir> [sizeMiB=2048]
import { createHash } from 'node:crypto';
import { mkdirSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';

const [dir, sizeArg] = process.argv.slice(2);
const total = Number(sizeArg ?? 2048) * 1024 * 1024;
const PAGE = 8192;
const SEGMENT = 1024 * 1024 * 1024;
const statuses = ['new', 'paid', 'shipped', 'returned'];
let seed = 42;
const rnd = () => {
  // xorshift32
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed / 4294967296;
};
const md5 = (s) => createHash('md5').update(s).digest('hex');

let id = 0;
function page() {
  const p = Buffer.alloc(PAGE);
  p.writeUInt32LE(0x12345678 + id, 0); // a page header-ish LSN
  let pos = 24;
  while (pos < PAGE - 260) {
    id++;
    const created = new Date(Date.UTC(2025, 0, 1) + Math.floor(rnd() * 365 * 86400e3)).toISOString();
    const row =
      `${id}|${Math.floor(rnd() * 1e6)}|${created}|${statuses[Math.floor(rnd() * 4)]}|` +
      `${md5(String(rnd()))} ${md5(String(rnd()))}|{"sku":"${md5(String(id))}","qty":${Math.floor(rnd() * 10)},"price":${(rnd() * 1000).toFixed(2)}}`;
    pos += p.write(row, pos, 'latin1');
    pos += 8 - (pos % 8 || 8); // alignment padding
  }
  return p;
}

mkdirSync(join(dir, 'base', '16384'), { recursive: true });
let written = 0;
let file = 0;
const batch = 128; // pages per write
while (written < total) {
  const relfile = 20000 + Math.floor(file / 100);
  const name = join(dir, 'base', '16384', file % 100 === 0 ? String(relfile) : `${relfile}.${file % 100}`);
  // mostly 1 GiB segments; a few small relations too
  const size = Math.min(total - written, file % 3 === 2 ? 64 * 1024 * 1024 : SEGMENT);
  const fd = openSync(name, 'w');
  for (let off = 0; off < size; off += PAGE * batch) {
    const n = Math.min(batch, Math.ceil((size - off) / PAGE));
    const bufs = [];
    for (let i = 0; i < n; i++) bufs.push(page());
    writeSync(fd, Buffer.concat(bufs));
  }
  closeSync(fd);
  written += size;
  file++;
}
// many small files, as in a real data directory
for (let i = 0; i < 300; i++) {
  const fd = openSync(join(dir, 'base', '16384', String(1000 + i)), 'w');
  writeSync(fd, Buffer.concat([page(), Buffer.alloc(PAGE * (i % 4))]));
  closeSync(fd);
}
console.log(`wrote ${(written / 1048576).toFixed(0)} MiB in ${file} large files and 300 small ones under ${dir}`);

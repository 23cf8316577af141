/**
 * Compression codecs. A codec spec is "none", "gzip[:level]", "lz4" or "zstd[:level]"; every blob
 * and object records its codec id in its header, so readers never need the writer's settings.
 * The functions here are synchronous: they run inside the blob workers (or for small objects on
 * the main thread).
 */
import { constants as zc, gunzipSync, gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { PgkeepError } from '../errors.js';

const require = createRequire(import.meta.url);

export type CodecName = 'none' | 'gzip' | 'lz4' | 'zstd';

export interface Codec {
  name: CodecName;
  /** Compression level (gzip 1-9, zstd 1-19); undefined for none and lz4. */
  level?: number;
}

/** Codec ids as stored in blob and object headers (format version 1). */
export const CODEC_IDS: Record<CodecName, number> = { none: 0, gzip: 1, lz4: 2, zstd: 3 };
const NAMES_BY_ID: CodecName[] = ['none', 'gzip', 'lz4', 'zstd'];

/** File-name suffix of whole objects (`<name>.<suffix>[.enc]`). */
export const CODEC_SUFFIXES: Record<CodecName, string> = { none: 'raw', gzip: 'gz', lz4: 'lz4', zstd: 'zst' };

export const DEFAULT_CODEC = 'zstd:3';

const DEFAULT_LEVELS: Partial<Record<CodecName, number>> = { gzip: 6, zstd: 3 };
const LEVEL_RANGES: Partial<Record<CodecName, [number, number]>> = { gzip: [1, 9], zstd: [1, 19] };

/** Parse "zstd:3", "gzip", "lz4", "none". Throws USAGE for anything else. */
export function parseCodec(spec: string, from = 'compression'): Codec {
  const m = /^(none|gzip|lz4|zstd)(?::(-?\d+))?$/.exec(spec.trim().toLowerCase());
  const bad = (why: string) =>
    new PgkeepError('USAGE', `invalid ${from} "${spec}": ${why}`, {
      hint: 'use none, gzip[:1-9], lz4 or zstd[:1-19] (default zstd:3)',
    });
  if (!m) throw bad('unknown codec');
  const name = m[1] as CodecName;
  if (m[2] === undefined) return DEFAULT_LEVELS[name] === undefined ? { name } : { name, level: DEFAULT_LEVELS[name] };
  const range = LEVEL_RANGES[name];
  if (!range) throw bad(`${name} takes no level`);
  const level = Number(m[2]);
  if (level < range[0] || level > range[1]) throw bad(`${name} level must be ${range[0]}-${range[1]}`);
  return { name, level };
}

export function formatCodec(c: Codec): string {
  return c.level === undefined ? c.name : `${c.name}:${c.level}`;
}

export function codecName(id: number): CodecName | undefined {
  return NAMES_BY_ID[id];
}

interface Zstd {
  compress(data: Uint8Array, p?: { compressionLevel?: number; checksumFlag?: boolean }): Buffer;
  decompress(data: Uint8Array): Buffer;
}
interface ZstdBinding {
  CCtx: new () => { compress(dst: Uint8Array, src: Uint8Array, level: number): number };
  DCtx: new () => { decompress(dst: Uint8Array, src: Uint8Array): number };
  compressBound(n: number): number;
}
interface Lz4 {
  compressFrameSync(data: Buffer, o?: { contentChecksum?: boolean }): Buffer;
  decompressFrameSync(data: Buffer): Buffer;
}
let zstd: Zstd | undefined;
let lz4: Lz4 | undefined;
let zbind: ZstdBinding | undefined;
let cctx: InstanceType<ZstdBinding['CCtx']> | undefined;
let dctx: InstanceType<ZstdBinding['DCtx']> | undefined;
const zstdBinding = (): ZstdBinding => (zbind ??= require('zstd-napi/binding') as ZstdBinding);
const zstdLib = (): Zstd => (zstd ??= require('zstd-napi') as Zstd);
const lz4Lib = (): Lz4 => (lz4 ??= require('lz4-napi') as Lz4);

const asBuffer = (d: Uint8Array): Buffer => (Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.byteLength));

export function compressSync(codec: Codec, data: Uint8Array): Uint8Array {
  switch (codec.name) {
    case 'none':
      return data;
    case 'gzip':
      return gzipSync(data, { level: codec.level ?? zc.Z_DEFAULT_COMPRESSION });
    case 'lz4':
      return lz4Lib().compressFrameSync(asBuffer(data));
    case 'zstd':
      return zstdLib().compress(data, { compressionLevel: codec.level ?? 3 });
  }
}

/** Decompress; throws a plain Error on malformed input (callers turn it into DATA_INTEGRITY). */
export function decompressSync(name: CodecName, data: Uint8Array): Uint8Array {
  switch (name) {
    case 'none':
      return data;
    case 'gzip':
      return gunzipSync(data);
    case 'lz4':
      return lz4Lib().decompressFrameSync(asBuffer(data));
    case 'zstd':
      return zstdLib().decompress(data);
  }
}

/** An upper bound of the compressed size of n bytes, for every codec. */
export function compressBound(n: number): number {
  return Math.max(zstdBinding().compressBound(n), n + (n >> 6)) + 1024;
}

/**
 * Compress into `dst` (at least compressBound(src.length) bytes) and return the length. zstd
 * writes straight into `dst` with a per-thread context (no allocation); others copy.
 */
export function compressInto(codec: Codec, src: Uint8Array, dst: Uint8Array): number {
  if (codec.name === 'zstd') {
    cctx ??= new (zstdBinding().CCtx)();
    return cctx.compress(dst, src, codec.level ?? 3);
  }
  const out = compressSync(codec, src);
  dst.set(out);
  return out.length;
}

/** Decompress into `dst`; returns the length. Throws when the data is malformed or too large. */
export function decompressInto(name: CodecName, src: Uint8Array, dst: Uint8Array): number {
  if (name === 'zstd') {
    dctx ??= new (zstdBinding().DCtx)();
    return dctx.decompress(dst, src);
  }
  const out = decompressSync(name, src);
  if (out.length > dst.length) throw new Error(`decompressed data is larger than the expected ${dst.length} bytes`);
  dst.set(out);
  return out.length;
}

/**
 * Small whole objects (WAL segments, history files...): one object each, stored as
 * `<name>.<codec suffix>[.enc]` in the object envelope of blob.ts, so a reader needs no settings
 * and a damaged or wrong object is never returned as data.
 */
import { PgkeepError } from '../errors.js';
import type { RepoCore } from './core.js';
import { CODEC_SUFFIXES, type Codec } from './codec.js';
import { decodeObject, encodeObject } from './blob.js';
import { damagedObject } from './integrity.js';

export interface StoredObjectInfo {
  /** Logical name, as given to putObject. */
  name: string;
  /** The stored key (name plus suffixes). */
  key: string;
  /** Stored size in bytes. */
  size: number;
  mtimeMs: number;
}

export interface PutObjectOptions {
  /** Store only when no object of that name exists (whatever its codec); returns created=false otherwise. */
  ifAbsent?: boolean;
  /** Codec for this object instead of the repository's. */
  codec?: Codec;
}

const SUFFIX_RE = new RegExp(`^(.+)\\.(${Object.values(CODEC_SUFFIXES).join('|')})(\\.enc)?$`);

export function objectKey(name: string, codec: Codec, encrypted: boolean): string {
  return `${name}.${CODEC_SUFFIXES[codec.name]}${encrypted ? '.enc' : ''}`;
}

/** The logical name of a stored key, or undefined when the key is not an object of this kind. */
export function objectName(key: string): string | undefined {
  return SUFFIX_RE.exec(key)?.[1];
}

export async function putObject(
  core: RepoCore,
  name: string,
  data: Uint8Array,
  opts: PutObjectOptions = {},
): Promise<{ created: boolean; key: string }> {
  const codec = opts.codec ?? core.codec;
  const key = objectKey(name, codec, Boolean(core.key));
  const body = encodeObject(codec, core.key, name, data);
  if (opts.ifAbsent) {
    const existing = await statObject(core, name);
    if (existing) return { created: false, key: existing.key };
    return { created: await core.driver.createIfAbsent(key, body), key };
  }
  await core.driver.put(key, body);
  return { created: true, key };
}

export async function statObject(core: RepoCore, name: string): Promise<StoredObjectInfo | undefined> {
  const first = objectKey(name, core.codec, Boolean(core.key));
  const st = await core.driver.stat(first);
  if (st) return { name, key: first, size: st.size, mtimeMs: st.mtimeMs };
  for await (const o of core.driver.list(`${name}.`)) {
    if (objectName(o.key) === name) return { name, key: o.key, size: o.size, mtimeMs: o.mtimeMs };
  }
  return undefined;
}

/** Read and verify an object; NOT_FOUND when absent, DATA_INTEGRITY when damaged. */
export async function getObject(core: RepoCore, name: string): Promise<Buffer> {
  let key = objectKey(name, core.codec, Boolean(core.key));
  let raw: Buffer | undefined;
  try {
    raw = await core.driver.get(key);
  } catch (e) {
    if (!(e instanceof PgkeepError && e.code === 'NOT_FOUND')) throw e;
    const info = await statObject(core, name);
    if (!info) {
      throw new PgkeepError('NOT_FOUND', `object ${name} does not exist in ${core.driver.location}`);
    }
    key = info.key;
    raw = await core.driver.get(key);
  }
  try {
    return decodeObject(core.key, name, raw);
  } catch (e) {
    throw damagedObject(key, (e as Error).message);
  }
}

export async function* listObjects(core: RepoCore, prefix: string): AsyncGenerator<StoredObjectInfo> {
  for await (const o of core.driver.list(prefix)) {
    const name = objectName(o.key);
    if (name !== undefined) yield { name, key: o.key, size: o.size, mtimeMs: o.mtimeMs };
  }
}

export async function deleteObject(core: RepoCore, name: string): Promise<boolean> {
  const info = await statObject(core, name);
  if (!info) return false;
  await core.driver.delete(info.key);
  return true;
}

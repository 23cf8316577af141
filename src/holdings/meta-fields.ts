/**
 * Reading a snapshot's meta field by field (physical: read-physical-meta.ts, logical:
 * read-dump-meta.ts): each accessor checks one field's type and shape, and a field that is not
 * right is a DATA_INTEGRITY error naming the snapshot and the field with its path
 * ("databases[2].toc.entries[7].dumpId"), never a cast.
 */
import { PgkeepError } from '../errors.js';
import type { SnapshotManifest } from '../repo/index.js';

/** What a reader needs of a manifest (a SnapshotManifest or a Snapshot). */
export type MetaSource = Pick<SnapshotManifest, 'id' | 'cluster' | 'meta'>;

/** `parse()`'s result for the object `raw`, computed once per object (a manifest's meta is read by several steps). */
export function parseOnce<T>(cache: WeakMap<object, T>, raw: unknown, parse: () => T): T {
  const key = raw !== null && typeof raw === 'object' ? raw : undefined;
  const known = key && cache.get(key);
  if (known) return known;
  const value = parse();
  if (key) cache.set(key, value);
  return value;
}

/** Reads one object's fields, naming the field (with its path) in the error. */
export class Fields {
  private readonly obj: Record<string, unknown>;

  constructor(
    private readonly m: MetaSource,
    value: unknown,
    private readonly path: string,
  ) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw damaged(m, path || 'meta', 'is not an object');
    this.obj = value as Record<string, unknown>;
  }

  private fail(name: string, why: string): PgkeepError {
    return damaged(this.m, this.path + name, why);
  }

  private value(name: string): unknown {
    const v = this.obj[name];
    if (v === undefined) throw this.fail(name, 'is missing');
    return v;
  }

  string(name: string, re?: RegExp, what?: string): string {
    const v = this.value(name);
    if (typeof v !== 'string') throw this.fail(name, `is not a string (${describe(v)})`);
    if (re && !re.test(v)) throw this.fail(name, `is not ${what} ("${v.slice(0, 40)}")`);
    return v;
  }

  optionalString(name: string): string | undefined {
    return this.optional(name, (n) => this.string(n));
  }

  /** `read(name)` when the field is present, else undefined. */
  optional<T>(name: string, read: (name: string) => T): T | undefined {
    return this.obj[name] === undefined ? undefined : read(name);
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T {
    const v = this.string(name);
    if (!(values as readonly string[]).includes(v)) throw this.fail(name, `is "${v}", not one of ${values.join(', ')}`);
    return v as T;
  }

  boolean(name: string): boolean {
    const v = this.value(name);
    if (typeof v !== 'boolean') throw this.fail(name, `is not true or false (${describe(v)})`);
    return v;
  }

  integer(name: string, min: number): number {
    const v = this.value(name);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
      throw this.fail(name, `is not an integer of at least ${min} (${describe(v)})`);
    return v;
  }

  /** An integer that is one of `values` (a format version). */
  integerOf(name: string, values: readonly number[]): number {
    const v = this.integer(name, Number.MIN_SAFE_INTEGER);
    if (!values.includes(v)) throw this.fail(name, `is ${v}, not one of ${values.join(', ')} (written by a newer pgkeep?)`);
    return v;
  }

  /** A WAL segment size: a power of two from 1 MB to 1 GB (initdb --wal-segsize). */
  segmentSize(name: string): number {
    const v = this.integer(name, 1 << 20);
    if ((v & (v - 1)) !== 0 || v > 1 << 30) throw this.fail(name, `is not a WAL segment size (${v})`);
    return v;
  }

  time(name: string): string {
    const v = this.string(name);
    if (Number.isNaN(Date.parse(v))) throw this.fail(name, `is not a time ("${v.slice(0, 40)}")`);
    return v;
  }

  array<T>(name: string, item: (f: Fields) => T): T[] {
    const v = this.value(name);
    if (!Array.isArray(v)) throw this.fail(name, `is not a list (${describe(v)})`);
    return v.map((x, i) => item(new Fields(this.m, x, `${this.path}${name}[${i}].`)));
  }

  strings(name: string): string[] {
    const v = this.value(name);
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw this.fail(name, 'is not a list of strings');
    return v as string[];
  }

  /** A list of integers of at least `min`. */
  integers(name: string, min: number): number[] {
    const v = this.value(name);
    if (!Array.isArray(v) || !v.every((x): x is number => typeof x === 'number' && Number.isInteger(x) && x >= min)) {
      throw this.fail(name, `is not a list of integers of at least ${min}`);
    }
    return v;
  }

  object(name: string): Fields {
    return new Fields(this.m, this.value(name), `${this.path}${name}.`);
  }

  has(name: string): boolean {
    return this.obj[name] !== undefined;
  }

  numbers(name: string): Record<string, number> {
    const f = this.object(name);
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(f.obj)) {
      if (typeof v !== 'number') throw f.fail(k, `is not a number (${describe(v)})`);
      out[k] = v;
    }
    return out;
  }
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v;
}

function damaged(m: MetaSource, field: string, why: string): PgkeepError {
  return new PgkeepError(
    'DATA_INTEGRITY',
    `snapshot ${m.id} of cluster "${m.cluster}" has a damaged record of its backup: field "${field}" ${why}`,
    {
      hint:
        'this snapshot cannot be used safely (its manifest decoded, but not as pgkeep writes it): ' +
        'run "pgkeep repo check", and restore from another backup',
      details: { snapshot: m.id, cluster: m.cluster, field },
    },
  );
}

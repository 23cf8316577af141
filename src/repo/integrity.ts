/** Errors for data that fails an integrity check: each names the object, the offset and why. */
import { PgkeepError } from '../errors.js';

export interface BlobPlace {
  pack: string;
  offset: number;
  length?: number;
  /** What the blob belongs to, e.g. 'file "base/5/1259" of snapshot main/20261124T101500Z-ab12'. */
  context?: string;
}

export function damagedBlob(place: BlobPlace, reason: string): PgkeepError {
  const of = place.context ? ` (${place.context})` : '';
  return new PgkeepError('DATA_INTEGRITY', `damaged data in pack ${place.pack} at offset ${place.offset}${of}: ${reason}`, {
    hint: 'run "pgkeep repo check --read-data" to list every damaged object and the snapshots it affects; restore from another snapshot or a copy of the repository',
    details: { pack: place.pack, offset: place.offset, length: place.length, context: place.context },
  });
}

export function damagedObject(key: string, reason: string, context?: string): PgkeepError {
  return new PgkeepError('DATA_INTEGRITY', `damaged repository object ${key}${context ? ` (${context})` : ''}: ${reason}`, {
    hint: 'run "pgkeep repo check" to list every damaged object and the snapshots it affects',
    details: { key, context },
  });
}

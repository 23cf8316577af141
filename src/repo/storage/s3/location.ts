/** Parsing of `s3://bucket/prefix` repository locations. */
import { PgkeepError } from '../../../errors.js';

export interface S3Location {
  bucket: string;
  /** Key prefix inside the bucket: '' or ending with '/'. */
  prefix: string;
}

export function parseS3Location(location: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(location);
  const bucket = m?.[1] ?? '';
  if (!m || !/^[a-z0-9][a-z0-9.\-_]{1,254}$/i.test(bucket)) {
    throw new PgkeepError('CONFIG', `invalid S3 repository location ${JSON.stringify(location)}`, {
      hint: 'write it as s3://BUCKET or s3://BUCKET/PREFIX, e.g. s3://backups/pgkeep/prod',
    });
  }
  const parts = (m[2] ?? '').split('/').filter((p) => p !== '');
  if (parts.some((p) => p === '.' || p === '..')) {
    throw new PgkeepError('CONFIG', `invalid S3 repository location ${JSON.stringify(location)}: '.' or '..' in the prefix`, {
      hint: 'use a plain prefix such as s3://backups/pgkeep/prod',
    });
  }
  return { bucket, prefix: parts.length ? `${parts.join('/')}/` : '' };
}

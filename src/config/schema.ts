/**
 * The shape of pgkeep.toml. Every key the file may hold is listed here with its type, so unknown
 * keys and wrong types are reported with the key's full name and the file. Later features add
 * their keys here (one line each).
 */

export type FieldType = 'string' | 'integer' | 'boolean';

export interface Section {
  /** Keys of this table and their types. */
  fields: Record<string, FieldType>;
  /** When true, the table holds named sub-tables (e.g. [cluster.main]) each with `fields`. */
  named?: boolean;
}

export const CONFIG_SCHEMA: Record<string, Section> = {
  repo: {
    fields: {
      path: 'string', // local directory or s3://bucket/prefix
      compression: 'string', // none | gzip[:level] | lz4 | zstd[:level]
      chunk_size: 'string', // e.g. "128k"
      passphrase_file: 'string',
      s3_endpoint: 'string',
      s3_region: 'string',
      s3_path_style: 'boolean',
      s3_timeout: 'string', // e.g. "60s": bound of one S3 request, retries included
    },
  },
  cluster: {
    named: true,
    fields: {
      connection: 'string', // libpq URI or key=value string
      pgdata: 'string',
      pg_bin: 'string', // directory with the server/client binaries to use
    },
  },
  backup: {
    fields: {
      archive_timeout: 'string', // e.g. "60s": longest wait for the backup's WAL to be archived
    },
  },
  restore: {
    fields: {
      prefetch: 'integer', // segments restore_command keeps fetched ahead of recovery (0: off)
    },
  },
  retention: {
    fields: {
      keep_last: 'integer',
      keep_days: 'integer',
    },
  },
  log: {
    fields: {
      level: 'string',
    },
  },
};

/** Prerequisite lines several scenarios share (exact postgresql.conf / pg_hba.conf / role lines). */

export const ARCHIVING_CONF = [
  'wal_level = replica',
  'archive_mode = on                      # needs a restart',
  "archive_command = 'pgkeep wal push %p'",
  'archive_timeout = 60                   # a quiet server still closes a segment every minute',
];

export const REPLICATION_HBA = [
  'local   replication   pgkeep                  peer',
  'host    replication   pgkeep   10.0.0.5/32    scram-sha-256',
];

export const BACKUP_ROLE = 'CREATE ROLE pgkeep LOGIN REPLICATION;  -- base backups over the replication protocol';

export const DUMP_HBA = [
  'local   all           pgkeep                  peer',
  'host    all           pgkeep   10.0.0.5/32    scram-sha-256',
];

export const DUMP_ROLE = 'GRANT pg_read_all_data TO pgkeep;  -- pg_dump reads every table (PostgreSQL 14+)';

/** Logical backups and restores: pg_dump/pg_restore into and out of the repository, COPY. */
export { exportCopy, type CopyExportOptions, type CopyExportResult } from './copy-export.js';
export { importCopy, type CopyImportOptions, type CopyImportResult } from './copy-import.js';
export { COPY_FORMATS, type CopyFormat } from './copy-sql.js';
export { parseQualifiedName, quoteIdent, quoteQualified, displayQualified, parseColumnList, type QualifiedName } from './identifiers.js';
export { dump, type DumpOptions, type DumpProgress, type DumpResult } from './dump/index.js';
export {
  restoreDump,
  loadDumpSnapshot,
  type RestoreDumpOptions,
  type RestoreDumpResult,
  type RestoredPart,
  type RestoreProgress,
} from './restore/index.js';
export { listDump, type DumpListing } from './restore/list.js';
export { DUMP_FORMATS, type DumpFormat, type DumpMeta, type DumpedDatabase } from './meta.js';
export * from './toc/index.js';
export { restoreSandbox, recoverSandbox, dropSandbox, type Sandbox } from './restore-table/sandbox.js';
export { restoreTable, type RestoreTableOptions, type RestoreTableResult } from './restore-table/index.js';

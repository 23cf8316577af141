/** pg_dump archive tables of contents: parsing, selection, -L lists. */
export { KNOWN_TYPES, RELATION_TYPES, type Toc, type TocEntry, type TocHeader } from './types.js';
export { parseTocList, parseListLine, splitSchemaNameOwner, type ListParseHints } from './parse-list.js';
export { parseVerboseToc, type VerboseEntry } from './parse-verbose.js';
export { mergeVerbose } from './merge.js';
export { knowsDependencies, selectTocEntries, type TocSelection, type TocSelectionResult, type SkippedEntry } from './select.js';
export { writeTocList, formatListLine } from './write-list.js';

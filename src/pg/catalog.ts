/**
 * Typed queries on the system catalogs. Each function takes an open session (anything with
 * `query`, e.g. a pg.Client) and returns plain data; nothing here prints or decides.
 *
 * Works on PostgreSQL 12 and newer. Sizes are numbers of bytes (a cluster under 8 PB fits in a
 * double exactly); 64-bit identifiers are decimal strings.
 */

// The queries live in catalog/, one file per group; this module is their one entry point.
export type { Queryable } from './catalog/queryable.js';
export * from './catalog/server.js';
export * from './catalog/settings.js';
export * from './catalog/databases-roles.js';
export * from './catalog/objects.js';
export * from './catalog/columns.js';
export * from './catalog/doctor-facts.js';
export * from './catalog/replication-slots.js';
export * from './catalog/wal-position.js';

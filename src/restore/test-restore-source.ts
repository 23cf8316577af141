/** The source cluster of restore.test.ts (a tablespace, two databases, an unlogged table), stopped cleanly, and readers for its checks. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { LocalCluster } from '../pg/local-cluster.js';
import { chownTreeToServerUser, ensureTraversable } from '../pg/server-user.js';

/** Made in `work`/ts1 and a temp cluster; returned stopped, with the checksums of its tables. */
export async function createRestoreSource(work: string): Promise<{ src: LocalCluster; tsDir: string; expected: Record<string, string> }> {
  const tsDir = join(work, 'ts1');
  mkdirSync(tsDir);
  chownTreeToServerUser(tsDir);
  ensureTraversable(tsDir);
  const src = await LocalCluster.create({ settings: { fsync: false } });
  await src.start();
  await src.exec(`create tablespace ts1 location '${tsDir}'`);
  await src.exec('create database app');
  await src.exec(
    `
    create table small (id int primary key, v text);
    insert into small select g, 'row ' || g from generate_series(1, 100) g;
    create table big (id int primary key, payload text);
    insert into big select g, repeat(md5(g::text), 4) from generate_series(1, 20000) g;
    create table in_ts (id int, v text) tablespace ts1;
    insert into in_ts select g, md5(g::text) from generate_series(1, 2000) g;
    create unlogged table scratch (id int);
    insert into scratch select generate_series(1, 100);
  `,
    'app',
  );
  await src.exec(`create table public.notes (id serial primary key, note text); insert into notes (note) values ('one'), ('two');`);
  // The restored configuration must not make a restored cluster use the source's port and socket.
  await src.exec(`alter system set port = ${src.port}`);
  await src.exec(`alter system set unix_socket_directories = '${src.socketDir}'`);
  await src.exec('checkpoint');
  const expected = await tableSums(src);
  await src.stop('fast');
  return { src, tsDir, expected };
}

/** md5 over each user table's rows in order, per database. */
export async function tableSums(c: LocalCluster): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const db of ['postgres', 'app']) {
    const tables = await c.query<{ t: string }>(
      "select format('%I.%I', schemaname, tablename) as t from pg_tables where schemaname not in ('pg_catalog', 'information_schema') order by 1",
      [],
      db,
    );
    for (const { t } of tables) {
      const [row] = await c.query<{ m: string; n: string }>(
        `select md5(coalesce(string_agg(x::text, ',' order by x::text), '')) as m, count(*) as n from ${t} x`,
        [],
        db,
      );
      out[`${db}.${t}`] = `${row!.n}:${row!.m}`;
    }
  }
  return out;
}

/** Open and close a TCP session to 127.0.0.1:port as postgres. */
export async function tcpSession(port: number, password?: string): Promise<void> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: 'postgres',
    database: 'postgres',
    password,
    connectionTimeoutMillis: 10000,
  });
  client.on('error', () => {});
  await client.connect();
  await client.end();
}

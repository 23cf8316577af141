/**
 * `pgkeep inspect`: what is in the cluster, from the system catalogs, as compact aligned
 * sections (or --json). `renderInspect` is also used by `pgkeep demo`.
 */
import type { Command } from 'commander';
import type { Runner } from '../context.js';
import { formatBytes, table } from '../output.js';
import { inspectCluster, type InspectReport, type InspectSection } from '../../inspect/index.js';
import type { RelationInfo, Setting } from '../../pg/catalog.js';

interface InspectFlags {
  database?: string;
  table?: string;
  includeTemplates?: boolean;
  explain?: boolean;
}

export function register(program: Command, runner: Runner): void {
  program
    .command('inspect')
    .description('show what is in the cluster, read from the system catalogs: server, backup settings, databases, roles, objects')
    .option('--database <name>', "only this database (and where --table is looked up; default: the connection's database)")
    .option('--table <name>', "show one table's columns (name, type, nullability, default), size and indexes; schema.table or table")
    .option('--include-templates', 'also list the objects of template databases')
    .option('--explain', 'name the catalog each section comes from, with a note on what it means')
    .addHelpText(
      'after',
      `
Examples:
  pgkeep inspect                              the whole cluster
  pgkeep inspect --database shop --explain    one database, with where each fact comes from
  pgkeep inspect --database shop --table public.orders
  pgkeep --json inspect                       machine-readable`,
    )
    .action(
      runner.action<InspectFlags>(async (ctx, opts) => {
        const report = await inspectCluster(ctx.config.cluster, {
          database: opts.database,
          table: opts.table,
          includeTemplates: opts.includeTemplates,
          explain: opts.explain,
          signal: ctx.signal,
          onDatabase: (db) => ctx.log.debug(`reading the catalogs of database ${db}`),
        });
        ctx.out.result(report, renderInspect);
      }),
    );
}

const yes = (b: boolean) => (b ? 'yes' : '');

function indent(text: string, n = 2): string {
  const pad = ' '.repeat(n);
  return text
    .split('\n')
    .map((l) => (l ? pad + l : l))
    .join('\n');
}

/** How a change to a setting with this context takes effect. */
export function contextEffect(context: string): string {
  switch (context) {
    case 'postmaster':
      return 'restart';
    case 'sighup':
      return 'reload';
    case 'internal':
      return 'initdb';
    case 'backend':
    case 'superuser-backend':
      return 'new session';
    default:
      return 'SET';
  }
}

function formatSetting(s: Setting): string {
  if (s.name === 'archive_command' && s.setting === '') return '(empty)';
  if (s.setting === '') return "''";
  if (s.setting === '-1' && s.unit) return '-1 (no limit)';
  if (s.unit === 'B') return formatBytes(Number(s.setting));
  if (s.unit === '8kB') return formatBytes(Number(s.setting) * 8192);
  if (s.unit === 'kB') return formatBytes(Number(s.setting) * 1024);
  if (s.unit === 'MB' && Number(s.setting) >= 0) return formatBytes(Number(s.setting) * 1024 * 1024);
  return s.unit ? `${s.setting} ${s.unit}` : s.setting;
}

/** Break text into lines of at most `width` characters (at spaces). */
export function wrap(text: string, width: number): string {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out.join('\n');
}

/** "key   value" lines with the values aligned. */
export function keyValues(pairs: string[][]): string {
  const w = Math.max(...pairs.map((p) => p[0]!.length));
  return pairs.map(([k, v]) => `${k!.padEnd(w)}  ${v}`).join('\n');
}

function rows(r: RelationInfo): string | number {
  return r.estimatedRows === null ? '?' : r.estimatedRows;
}

function qualified(schema: string, name: string): string {
  return `${schema}.${name}`;
}

/** Human text for an inspect report. */
export function renderInspect(report: InspectReport): string {
  const out: string[] = [];
  const section = (title: string, key: InspectSection | null, body: string, pad = 0) => {
    out.push(indent(title, pad));
    const note = key && report.explain?.[key];
    if (note) out.push(indent(wrap(`from ${note.catalog}: ${note.note}`, 96), pad + 2));
    if (body) out.push(indent(body, pad + 2));
    out.push('');
  };

  const s = report.server;
  section(
    `Server (${report.target})`,
    'server',
    keyValues([
      ['version', `PostgreSQL ${s.version}`],
      ['system identifier', s.systemIdentifier ?? '(not visible to this user)'],
      ['data directory', s.dataDirectory ?? '(visible to superusers and pg_read_all_settings only)'],
      ['connected as', `${s.currentUser}${s.isSuperuser ? ' (superuser)' : ''} to database ${s.database}`],
      ['role', s.inRecovery ? 'standby (in recovery)' : 'primary'],
      ...(s.startedAt ? [['started', new Date(s.startedAt).toISOString()]] : []),
    ]),
  );

  if (!report.table) {
    section(
      'Settings that matter for backups',
      'settings',
      table(
        ['setting', 'value', 'change needs'],
        report.settings.map((x) => [
          x.name,
          formatSetting(x) + (x.pendingRestart ? '  (changed; restart pending)' : ''),
          contextEffect(x.context),
        ]),
      ),
    );
  }

  if (report.table) {
    const t = report.table;
    const head = `Table ${qualified(t.schema, t.name)} in database ${t.database} (${t.kind})`;
    const size = t.relation
      ? `rows (estimated) ${rows(t.relation)}, total ${formatBytes(t.relation.totalBytes)} = table ${formatBytes(t.relation.tableBytes)}` +
        ` + indexes ${formatBytes(t.relation.indexBytes)} + TOAST ${formatBytes(t.relation.toastBytes)}\n\n`
      : '';
    section(
      head,
      'columns',
      size +
        table(
          ['#', 'column', 'type', 'not null', 'default'],
          t.columns.map((c) => [
            c.position,
            c.name,
            c.type + (c.collation ? ` collate ${c.collation}` : ''),
            yes(c.notNull),
            c.identity
              ? `generated ${c.identity} as identity`
              : c.generated
                ? `generated always as ${/^\(.*\)$/.test(c.default ?? '') ? c.default : `(${c.default})`}`
                : c.default,
          ]),
        ),
    );
    if (t.indexes.length) {
      section(
        'Indexes',
        'indexes',
        table(
          ['index', 'size', 'definition'],
          t.indexes.map((i) => [i.name, formatBytes(i.sizeBytes), i.definition]),
        ),
        2,
      );
    }
    return out.join('\n').trimEnd();
  }

  if (report.databases) {
    section(
      `Databases (${report.databases.length})`,
      'databases',
      table(
        ['name', 'owner', 'encoding', 'collate', 'size', 'notes'],
        report.databases.map((d) => [
          d.name,
          d.owner,
          d.encoding,
          d.localeProvider === 'libc' ? d.collate : `${d.locale ?? '?'} (${d.localeProvider})`,
          d.sizeBytes === null ? '?' : formatBytes(d.sizeBytes),
          [
            d.isTemplate ? 'template' : '',
            d.allowConnections ? '' : 'no connections',
            d.canConnect ? '' : 'no CONNECT',
            d.connectionLimit >= 0 ? `limit ${d.connectionLimit}` : '',
          ]
            .filter(Boolean)
            .join(', '),
        ]),
      ),
    );
  }
  if (report.roles) {
    section(
      `Roles (${report.roles.length}, predefined pg_* roles not shown)`,
      'roles',
      table(
        ['role', 'login', 'superuser', 'replication', 'createdb', 'createrole', 'bypassrls', 'conn limit', 'member of'],
        report.roles.map((r) => [
          r.name,
          yes(r.login),
          yes(r.superuser),
          yes(r.replication),
          yes(r.createdb),
          yes(r.createrole),
          yes(r.bypassrls),
          r.connectionLimit < 0 ? '' : r.connectionLimit,
          r.memberOf.join(', '),
        ]),
      ),
    );
  }
  for (const o of report.objects ?? []) {
    out.push(`Database ${o.database}`);
    out.push('');
    section(`Schemas (${o.schemas.length})`, 'schemas', o.schemas.map((x) => `${x.name} (owner ${x.owner})`).join(', '), 2);
    if (o.tables.length) {
      section(
        `Tables (${o.tables.length})`,
        'tables',
        table(
          ['table', 'kind', 'rows (est.)', 'total', 'table', 'indexes', 'toast'],
          o.tables.map((t) => [
            qualified(t.schema, t.name),
            t.kind === 'r' ? (t.persistence === 'u' ? 'unlogged' : '') : t.kind === 'p' ? 'partitioned' : 'foreign',
            rows(t),
            formatBytes(t.totalBytes),
            formatBytes(t.tableBytes),
            formatBytes(t.indexBytes),
            formatBytes(t.toastBytes),
          ]),
        ),
        2,
      );
    }
    if (o.views.length) section(`Views (${o.views.length})`, 'views', o.views.map((v) => qualified(v.schema, v.name)).join(', '), 2);
    if (o.materializedViews.length) {
      section(
        `Materialized views (${o.materializedViews.length})`,
        'materializedViews',
        table(
          ['view', 'rows (est.)', 'total'],
          o.materializedViews.map((m) => [qualified(m.schema, m.name), rows(m), formatBytes(m.totalBytes)]),
        ),
        2,
      );
    }
    if (o.sequences.length) {
      section(
        `Sequences (${o.sequences.length})`,
        'sequences',
        table(
          ['sequence', 'type', 'last value', 'owned by'],
          o.sequences.map((q) => [qualified(q.schema, q.name), q.dataType, q.lastValue ?? '', q.ownedBy ?? '']),
        ),
        2,
      );
    }
    if (o.functions.length) {
      section(
        `Functions (${o.functions.length})`,
        'functions',
        table(
          ['function', 'returns', 'kind', 'language'],
          o.functions.map((f) => [`${qualified(f.schema, f.name)}(${f.arguments})`, f.returns ?? '', f.kind, f.language]),
        ),
        2,
      );
    }
    if (o.indexes.length) {
      section(
        `Indexes (${o.indexes.length})`,
        'indexes',
        table(
          ['index', 'table', 'method', 'unique', 'size'],
          o.indexes.map((i) => [
            qualified(i.schema, i.name),
            i.table,
            i.method,
            i.primary ? 'primary key' : yes(i.unique),
            formatBytes(i.sizeBytes),
          ]),
        ),
        2,
      );
    }
    if (!o.tables.length && !o.views.length && !o.materializedViews.length && !o.sequences.length && !o.functions.length) {
      out.push('  (no tables, views, sequences or functions)', '');
    }
  }
  if (report.skipped?.length) {
    out.push(`Not inspected: ${report.skipped.map((x) => `${x.database} (${x.reason})`).join('; ')}`);
  }
  return out.join('\n').trimEnd();
}

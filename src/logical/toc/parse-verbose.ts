/**
 * Parse the comment blocks of `pg_restore --schema-only --verbose -f -` (pure):
 *
 *   -- TOC entry 3276 (class 2606 OID 16407)
 *   -- Dependencies: 220 218 3271
 *   -- Name: lines lines_order_id_fkey; Type: FK CONSTRAINT; Schema: sales; Owner: postgres
 *
 * They give what `pg_restore -l` cannot: each entry's dependencies, and its name, schema and
 * owner as separate fields.
 */

export interface VerboseEntry {
  dumpId: number;
  tableOid: number;
  oid: number;
  deps: number[];
  type?: string;
  name?: string;
  schema?: string;
  owner?: string;
}

const ENTRY = /^-- TOC entry (\d+) \(class (\d+) OID (\d+)\)$/;
const DEPS = /^-- Dependencies:((?: \d+)*)$/;
const NAME = /^-- Name: (.*); Type: (.*?); Schema: (.*?); Owner: (.*)$/;

export function parseVerboseToc(text: string): Map<number, VerboseEntry> {
  const out = new Map<number, VerboseEntry>();
  let cur: VerboseEntry | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const e = ENTRY.exec(line);
    if (e) {
      cur = { dumpId: Number(e[1]), tableOid: Number(e[2]), oid: Number(e[3]), deps: [] };
      out.set(cur.dumpId, cur);
      continue;
    }
    if (!cur) continue;
    const d = DEPS.exec(line);
    if (d) {
      cur.deps = [...new Set(d[1]!.trim().split(/\s+/).filter(Boolean).map(Number))];
      continue;
    }
    const n = NAME.exec(line);
    if (n) {
      cur.name = n[1]!;
      cur.type = n[2]!;
      cur.schema = n[3] === '-' ? undefined : n[3]!;
      cur.owner = n[4] === '-' ? '' : n[4]!;
      cur = undefined; // the block's header ends with the Name line
    }
  }
  return out;
}

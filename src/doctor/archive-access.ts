/**
 * Can the server's OS user reach what archive_command needs? The server runs archive_command as
 * its own OS user (postgres), not as whoever ran `repo init`: a repository made by root with mode
 * 0700, or a passphrase file only root can read, makes every `wal push` fail. Checked for real,
 * as that user (runuser, with its groups), with access(2) — not by reading mode bits.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { lookupOsUser, type OsUser } from '../pg/server-user.js';
import type { ArchiveTarget } from './archive-target.js';
import type { ArchiveAccessFacts, PathAccess } from './types.js';

/** The OS user owning the data directory: the user the server runs as. */
export function dataDirOwner(dataDir: string): OsUser | undefined {
  let uid: number;
  try {
    uid = statSync(dataDir).uid;
  } catch {
    return undefined;
  }
  return userByUid(uid);
}

function userByUid(uid: number): OsUser | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length >= 7 && Number(f[2]) === uid) return lookupOsUser(f[0]!);
    }
  } catch {
    // no passwd: unknown
  }
  return undefined;
}

interface Wanted {
  what: string;
  path: string;
  need: 'r' | 'rw';
}

/** The paths `wal push` touches: the config file, the repository directory tree, the passphrase file. */
function wantedPaths(target: ArchiveTarget): Wanted[] {
  const out: Wanted[] = [];
  if (target.configFile) out.push({ what: 'config file', path: target.configFile, need: 'r' });
  const repo = target.repo.path;
  if (repo && !/^s3:\/\//.test(repo)) {
    out.push({ what: 'repository', path: repo, need: 'rw' });
    // wal push writes WAL objects and temporary files under the repository's directories, and
    // reads its top-level files (format, keys): every directory must be writable, files readable.
    let budget = 2000;
    const walk = (dir: string, depth: number) => {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        return;
      }
      for (const name of names) {
        if (--budget < 0) return;
        const p = join(dir, name);
        let st;
        try {
          st = statSync(p);
        } catch {
          continue;
        }
        if (st.isDirectory()) {
          out.push({ what: 'repository directory', path: p, need: 'rw' });
          if (depth < 3) walk(p, depth + 1);
        } else if (depth === 0) out.push({ what: 'repository file', path: p, need: 'r' });
      }
    };
    if (existsSync(repo)) walk(repo, 0);
  }
  if (target.passphraseFile && target.env.PGKEEP_PASSPHRASE === undefined) {
    out.push({ what: 'passphrase file', path: target.passphraseFile, need: 'r' });
  }
  return out;
}

/** Runs as the server's OS user: access(2) for each path; on failure, the first ancestor it cannot search. */
const CHECKER = `
const fs = require('fs'), path = require('path');
const items = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = items.map((it) => {
  const st = (() => { try { return fs.statSync(it.path); } catch { return null; } })();
  const mode = it.need === 'r' ? fs.constants.R_OK : fs.constants.R_OK | fs.constants.W_OK | (st && st.isDirectory() ? fs.constants.X_OK : 0);
  try { fs.accessSync(it.path, mode); return { ok: true }; } catch (e) {
    let blocked;
    for (let d = path.dirname(it.path), prev; d !== prev; prev = d, d = path.dirname(d)) {
      try { fs.accessSync(d, fs.constants.X_OK); } catch { blocked = d; }
    }
    return { ok: false, error: e.code, blocked };
  }
});
process.stdout.write(JSON.stringify(out));
`;

function runAs(user: OsUser | undefined, input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const args = user ? ['-u', user.name, '--', process.execPath, '-e', CHECKER] : ['-e', CHECKER];
    const child = spawn(user ? 'runuser' : process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd: '/' });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(err.trim() || `exit ${code}`))));
    child.stdin.end(input);
  });
}

export async function archiveAccessFacts(target: ArchiveTarget, user: OsUser): Promise<ArchiveAccessFacts> {
  const base = {
    osUser: user.name,
    configFile: target.configFile,
    repo: target.repo.path,
    ...(target.error ? { configError: target.error } : {}),
  };
  const me = process.getuid?.();
  if (me !== 0 && me !== user.uid) {
    return { ...base, checks: [], skipped: `doctor runs as uid ${me}, neither root nor ${user.name}, so it cannot check as ${user.name}` };
  }
  const wanted = wantedPaths(target);
  if (!wanted.length) return { ...base, checks: [] };
  let results: { ok: boolean; error?: string; blocked?: string }[];
  try {
    results = JSON.parse(await runAs(me === 0 ? user : undefined, JSON.stringify(wanted)));
  } catch (e) {
    return { ...base, checks: [], skipped: `could not run a check as ${user.name}: ${(e as Error).message}` };
  }
  const checks: PathAccess[] = wanted.map((w, i) => {
    const r = results[i]!;
    const st = (() => {
      try {
        return statSync(r.blocked ?? w.path);
      } catch {
        return undefined;
      }
    })();
    const path = r.blocked && r.error !== 'ENOENT' ? r.blocked : w.path;
    return {
      ...w,
      path,
      ok: r.ok,
      ...(r.ok
        ? {}
        : {
            error:
              r.blocked && r.error !== 'ENOENT'
                ? `EACCES (${dirname(w.path) === path ? 'its directory' : 'an ancestor'} ${path} is not searchable; needed for ${w.path})`
                : r.error,
          }),
      ...(st ? { owner: userByUid(st.uid)?.name ?? String(st.uid), mode: (st.mode & 0o7777).toString(8).padStart(4, '0') } : {}),
    };
  });
  return { ...base, checks };
}

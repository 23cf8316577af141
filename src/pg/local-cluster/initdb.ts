/** Creating a cluster: initdb with the options of LocalCluster.create. */

import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PgkeepError } from '../../errors.js';
import { chownTreeToServerUser, type RunResult } from '../server-user.js';
import type { LocalClusterCreateOptions } from './options.js';
import { tail } from './output-text.js';

/** initdb into the cluster's data directory (the superuser password, if any, through a pwfile removed afterwards). */
export async function runInitdb(
  cluster: { dataDir: string; baseDir: string; superuser: string; major: number },
  run: (tool: string, args: string[]) => Promise<RunResult>,
  opts: LocalClusterCreateOptions,
): Promise<void> {
  const method = opts.authMethod ?? 'trust';
  const args = [
    '-D',
    cluster.dataDir,
    '-U',
    cluster.superuser,
    '--encoding=UTF8',
    '--locale=C',
    '--no-sync',
    '--auth-local=trust',
    `--auth-host=${method}`,
  ];
  // 18's initdb turns checksums on by default: asking for none must say so.
  if (opts.dataChecksums ?? true) args.push('--data-checksums');
  else if (cluster.major >= 18) args.push('--no-data-checksums');
  let pwfile: string | undefined;
  if (opts.superuserPassword !== undefined) {
    pwfile = join(cluster.baseDir, 'pwfile');
    writeFileSync(pwfile, opts.superuserPassword + '\n', { mode: 0o600 });
    chownTreeToServerUser(pwfile);
    args.push(`--pwfile=${pwfile}`);
  } else if (method !== 'trust' && method !== 'reject') {
    throw new PgkeepError('USAGE', `authMethod ${method} needs a superuserPassword`);
  }
  args.push(...(opts.initdbArgs ?? []));
  const r = await run('initdb', args);
  if (pwfile) rmSync(pwfile, { force: true });
  if (r.code !== 0) {
    throw new PgkeepError('SERVER_NOT_READY', `initdb failed (exit ${r.code}): ${tail(r.stderr || r.stdout, 15)}`);
  }
}

import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chownTreeToServerUser, ensureTraversable, serverOsUser } from '../server-user.js';

/** A fresh temp base directory with its private socket/ directory, owned by the server's OS user. */
export function makeBaseDir(parent?: string): string {
  const base = mkdtempSync(join(parent ?? tmpdir(), 'pgkeep-cluster-'));
  // The socket's directory is private to the server's OS user (and root): whoever may enter it may connect.
  mkdirSync(join(base, 'socket'), { mode: 0o700 });
  chmodSync(join(base, 'socket'), 0o700);
  if (serverOsUser()) {
    ensureTraversable(base);
    chownTreeToServerUser(base);
  }
  return base;
}

/** A TCP port that was free a moment ago on 127.0.0.1 (start() retries if it is taken meanwhile). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

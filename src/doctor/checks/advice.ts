/**
 * The words of a fix that depend on where the cluster lives: the real postgresql.conf and
 * pg_hba.conf (the server's config_file and hba_file), and the real start/stop/reload/restart
 * commands for its layout (pg_ctlcluster on Debian, pg_ctl -D elsewhere).
 */
import type { ClusterCommands } from '../../pg/layout.js';
import type { DoctorFacts } from '../types.js';
import { setting } from './make.js';

/** The server's postgresql.conf, or a pointer to it when the role may not see the path. */
export function configFileName(facts: DoctorFacts): string {
  return facts.layout?.configFile ?? setting(facts, 'config_file') ?? 'postgresql.conf (SHOW config_file names it)';
}

export function hbaFileName(facts: DoctorFacts): string {
  return facts.layout?.hbaFile ?? setting(facts, 'hba_file') ?? 'pg_hba.conf (SHOW hba_file names it)';
}

/** The command for the layout, or a generic description when the data directory is unknown. */
export function clusterCommand(facts: DoctorFacts, verb: keyof ClusterCommands): string {
  // The data directory is not visible to this role: both forms, to be completed.
  const cmd = facts.layout?.commands[verb] ?? `pg_ctlcluster <major> <name> ${verb} (Debian) or pg_ctl ${verb} -D <data directory>`;
  // pg_ctl runs as the server's OS user (pg_ctlcluster switches user itself).
  return facts.layout?.kind !== 'debian' && facts.commandUser ? `sudo -u ${facts.commandUser} ${cmd}` : cmd;
}

/**
 * "in FILE:\nlines\nthen restart: COMMAND". Each line goes to the file that sets it now (a
 * later include or postgresql.auto.conf overrides postgresql.conf): a setting from ALTER SYSTEM is
 * changed with ALTER SYSTEM.
 */
export function confChange(facts: DoctorFacts, lines: string[], needs: 'reload' | 'restart'): string {
  const then =
    needs === 'restart'
      ? `then restart the server: ${clusterCommand(facts, 'restart')}`
      : `then reload: SELECT pg_reload_conf(); (or ${clusterCommand(facts, 'reload')})`;
  const main = configFileName(facts);
  const groups = new Map<string, string[]>();
  for (const line of lines) {
    const name = /^(\w+)\s*=/.exec(line)?.[1];
    const src = name ? facts.settingSources?.[name] : undefined;
    let where = main;
    let text = line;
    if (src && src.file.endsWith('/postgresql.auto.conf')) {
      where = 'SQL, as a superuser (it is set by ALTER SYSTEM, which overrides the config files)';
      const value = line.replace(/\s+#.*$/, '').replace(/^\w+\s*=\s*/, '');
      text = `ALTER SYSTEM SET ${name} = ${/^(-?\d+(\.\d+)?|[a-z_]+|'.*')$/.test(value) ? value : `'${value}'`};`;
    } else if (src) {
      if (src.file !== main) where = `${src.file} (set there now, overriding ${main})`;
      text = /\s#/.test(line) ? `${line}; replaces line ${src.line}` : `${line}   # replaces line ${src.line}`;
    }
    groups.set(where, [...(groups.get(where) ?? []), text]);
  }
  return [...groups].map(([where, l]) => `in ${where}:\n${l.join('\n')}`).join('\n') + `\n${then}`;
}

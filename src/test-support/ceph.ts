/**
 * A real S3 service for tests: Ceph's RADOS Gateway on a throwaway one-node cluster (one
 * monitor, one manager, one memstore OSD) under a temp directory, listening on 127.0.0.1 only.
 * Fake S3 servers ignore conditional writes, so lock tests need the real thing. Takes about a
 * minute to start on a 2-core machine; start it once per test file.
 *
 * Needs Debian's ceph-mon, ceph-osd, ceph-mgr and radosgw packages (.ci/run installs them).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface CephRgw {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** The cluster's temp directory (ceph.conf, logs). */
  dir: string;
  /** Milliseconds from start until the gateway answered. */
  startupMs: number;
  createBucket(name: string): Promise<void>;
  /** Resident memory of the daemons in bytes, by daemon name. */
  rss(): Record<string, number>;
  stop(): Promise<void>;
}

const BINARIES = ['monmaptool', 'ceph-mon', 'ceph-mgr', 'ceph-osd', 'ceph', 'radosgw', 'radosgw-admin'];
/** Virtual size of the memstore OSD; memory is used only for what is stored. */
const MEMSTORE_BYTES = 2 * 1024 ** 3;
const START_TIMEOUT_MS = 240_000;
const MGR_MODULES =
  'alerts balancer crash devicehealth diskprediction_local influx insights iostat localpool ' +
  'mirroring nfs orchestrator osd_perf_query osd_support pg_autoscaler progress prometheus rbd_support restful ' +
  'selftest snap_schedule stats status telegraf telemetry test_orchestrator volumes zabbix';

/** Names of the ceph binaries that are not on PATH. */
export function missingCephBinaries(): string[] {
  const dirs = (process.env.PATH ?? '').split(':').filter(Boolean);
  return BINARIES.filter((b) => !dirs.some((d) => existsSync(join(d, b))));
}

/**
 * Start a one-node Ceph with its gateway. On a loaded machine a start sometimes fails in ways that
 * are Ceph's, not ours (the monitor not yet answering "osd create": "problem getting command
 * descriptions from mon"; an OSD racing the monmap): each attempt uses a fresh directory and ports,
 * and the last failure is reported with the daemons' logs.
 */
export async function startCephRgw(attempts = 3): Promise<CephRgw> {
  for (let i = 1; ; i++) {
    try {
      return await startCephRgwOnce();
    } catch (e) {
      if (i >= attempts || /Ceph is not installed/.test(String(e))) throw e;
    }
  }
}

async function startCephRgwOnce(): Promise<CephRgw> {
  const missing = missingCephBinaries();
  if (missing.length) {
    throw new Error(
      `Ceph is not installed (missing ${missing.join(', ')}): apt-get install ceph-mon ceph-osd ceph-mgr radosgw ` +
        '(or set PGKEEP_TEST_S3=skip to skip the S3 tests)',
    );
  }
  const started = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'pgkeep-ceph-'));
  const daemons: Daemon[] = [];
  // If this process dies without cleaning up (killed by a timeout, SIGKILL), a watchdog shell
  // kills the daemons and removes the directory.
  const watchdog = startWatchdog(dir);
  const killAll = () => {
    for (const d of daemons) if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
  };
  // Never leave daemons behind, even when the test process exits abruptly.
  process.once('exit', killAll);
  try {
    const [monPort, rgwPort] = (await freePorts(2)) as [number, number];
    const conf = join(dir, 'ceph.conf');
    for (const sub of ['run', 'log', 'mon.a', 'mgr.x', 'osd.0', 'rgw.a']) await mkdir(join(dir, sub));
    await writeFile(conf, cephConf(dir, randomUUID(), monPort, rgwPort));
    const c = ['-c', conf];

    await run('monmaptool', ['--create', '--add', 'a', `v1:127.0.0.1:${monPort}`, '--fsid', fsidOf(conf), join(dir, 'monmap')], dir);
    await run('ceph-mon', ['--mkfs', '-i', 'a', '--monmap', join(dir, 'monmap'), ...c], dir);
    daemons.push(await startDaemon('mon.a', 'ceph-mon', ['-f', '-i', 'a', ...c], dir));
    daemons.push(await startDaemon('mgr.x', 'ceph-mgr', ['-f', '-i', 'x', ...c], dir));
    const osdUuid = randomUUID();
    const osdId = (await run('ceph', [...c, '--connect-timeout', '60', 'osd', 'create', osdUuid], dir, daemons)).trim();
    if (osdId !== '0') throw new Error(`ceph osd create returned ${JSON.stringify(osdId)}, expected 0`);
    await run('ceph-osd', ['-i', '0', '--mkfs', '--osd-uuid', osdUuid, ...c], dir, daemons);
    daemons.push(await startDaemon('osd.0', 'ceph-osd', ['-f', '-i', '0', ...c], dir));
    await run('ceph', [...c, 'osd', 'crush', 'add', 'osd.0', '1', 'root=default', 'host=localhost'], dir, daemons);
    daemons.push(await startDaemon('client.rgw.a', 'radosgw', ['-f', '-n', 'client.rgw.a', ...c], dir));

    const endpoint = `http://127.0.0.1:${rgwPort}`;
    await waitForHttp200(endpoint, daemons, started + START_TIMEOUT_MS);
    const accessKeyId = `PGKEEP${randomBytes(7).toString('hex').toUpperCase()}`;
    const secretAccessKey = randomBytes(20).toString('base64url');
    await run(
      'radosgw-admin',
      [
        ...c,
        'user',
        'create',
        '--uid=pgkeep-test',
        '--display-name=pgkeep test',
        `--access-key=${accessKeyId}`,
        `--secret=${secretAccessKey}`,
      ],
      dir,
      daemons,
    );
    const startupMs = Date.now() - started;
    const region = 'us-east-1';

    let stopped = false;
    return {
      endpoint,
      accessKeyId,
      secretAccessKey,
      region,
      dir,
      startupMs,
      async createBucket(name: string) {
        process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
        const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3');
        const client = new S3Client({ endpoint, region, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
        try {
          await client.send(new CreateBucketCommand({ Bucket: name }));
        } finally {
          client.destroy();
        }
      },
      rss() {
        const out: Record<string, number> = {};
        for (const d of daemons) out[d.name] = rssOf(d.child.pid);
        return out;
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await stopDaemons(daemons);
        process.off('exit', killAll);
        await rm(dir, { recursive: true, force: true });
        watchdog.kill('SIGKILL');
      },
    };
  } catch (e) {
    const logs = tailLogs(dir);
    await stopDaemons(daemons);
    process.off('exit', killAll);
    await rm(dir, { recursive: true, force: true });
    watchdog.kill('SIGKILL');
    throw new Error(`could not start Ceph RGW: ${e instanceof Error ? e.message : String(e)}${logs}`, { cause: e });
  }
}

function cephConf(dir: string, fsid: string, monPort: number, rgwPort: number): string {
  return `[global]
fsid = ${fsid}
mon_host = v1:127.0.0.1:${monPort}
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_msgr2 = false
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
osd_objectstore = memstore
memstore_device_bytes = ${MEMSTORE_BYTES}
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
osd_crush_chooseleaf_type = 0
run_dir = ${dir}/run
admin_socket = ${dir}/run/$name.asok
pid_file = ${dir}/run/$name.pid
log_file = ${dir}/log/$name.log
log_to_stderr = false
err_to_stderr = false
osd_memory_target = 268435456
# No mon commands from the OSD while it starts (we add it to the CRUSH map ourselves); the
# device-class update at start sometimes races the monmap and kills the OSD with 'wrong fsid'.
osd_class_update_on_start = false
osd_crush_update_on_start = false
mon_data = ${dir}/mon.$id
mgr_data = ${dir}/mgr.$id
osd_data = ${dir}/osd.$id
# The manager's Python modules cost ~250 MB of RSS and nothing here needs them.
mgr_initial_modules =
mgr_disabled_modules = ${MGR_MODULES}

[client.rgw.a]
rgw_frontends = beast endpoint=127.0.0.1:${rgwPort}
rgw_data = ${dir}/rgw.a
rgw_thread_pool_size = 32
# Free deleted objects' data after seconds, not hours: the memstore OSD keeps it all in RAM.
rgw_gc_obj_min_wait = 10
rgw_gc_processor_period = 10
rgw_gc_processor_max_time = 10
`;
}

function fsidOf(conf: string): string {
  const m = /^fsid = (.+)$/m.exec(readFileSync(conf, 'utf8'));
  if (!m) throw new Error('no fsid in ceph.conf');
  return m[1]!;
}

interface Daemon {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
}

async function startDaemon(name: string, cmd: string, args: string[], dir: string): Promise<Daemon> {
  const out = openSync(join(dir, 'log', `${name}.out`), 'a');
  const child = spawn(cmd, args, { cwd: dir, stdio: ['ignore', out, out] });
  closeSync(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', () => undefined);
  if (child.pid) await appendFile(join(dir, 'daemon-pids'), `${child.pid}\n`);
  return { name, child, exited };
}

function startWatchdog(dir: string): ChildProcess {
  const script = `
    alive() { s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1; [ "\${s%% *}" != Z ]; }
    while alive "$1"; do sleep 2; done
    if [ -f "$2/daemon-pids" ]; then for p in $(cat "$2/daemon-pids"); do kill -9 "$p" 2>/dev/null; done; fi
    rm -rf "$2"`;
  const child = spawn('sh', ['-c', script, 'pgkeep-ceph-watchdog', String(process.pid), dir], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  return child;
}

async function stopDaemons(daemons: Daemon[]): Promise<void> {
  // Reverse order of start; memstore keeps nothing worth a clean shutdown, so be quick.
  for (const d of [...daemons].reverse()) {
    if (d.child.exitCode !== null || d.child.signalCode !== null) continue;
    d.child.kill('SIGTERM');
    const timer = setTimeout(() => d.child.kill('SIGKILL'), 5000);
    await d.exited;
    clearTimeout(timer);
  }
}

/** Run a command to completion; fail on non-zero exit, timeout, or a daemon dying meanwhile. */
function run(cmd: string, args: string[], cwd: string, daemons: Daemon[] = [], timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const watch = setInterval(() => {
      const dead = daemons.find((d) => d.child.exitCode !== null || d.child.signalCode !== null);
      if (dead) child.kill('SIGKILL');
    }, 500);
    child.once('error', (e) => {
      clearTimeout(timer);
      clearInterval(watch);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(watch);
      if (code === 0) return resolve(stdout);
      const dead = daemons.find((d) => d.child.exitCode !== null || d.child.signalCode !== null);
      const why = dead ? ` (daemon ${dead.name} exited)` : signal ? ` (killed by ${signal})` : '';
      reject(new Error(`${cmd} ${args.join(' ')} failed with ${code ?? signal}${why}: ${stderr.trim().slice(-2000)}`));
    });
  });
}

async function waitForHttp200(endpoint: string, daemons: Daemon[], deadline: number): Promise<void> {
  let last = '';
  while (Date.now() < deadline) {
    const dead = daemons.find((d) => d.child.exitCode !== null || d.child.signalCode !== null);
    if (dead) throw new Error(`daemon ${dead.name} exited with ${dead.child.exitCode ?? dead.child.signalCode}`);
    try {
      const res = await fetch(endpoint, { signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    await sleep(500);
  }
  throw new Error(`the gateway at ${endpoint} did not answer HTTP 200 in time (last: ${last})`);
}

function freePorts(n: number): Promise<number[]> {
  // Hold all listeners open together so the ports differ.
  const servers = Array.from({ length: n }, () => createServer());
  return Promise.all(
    servers.map(
      (s) =>
        new Promise<number>((resolve, reject) => {
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port));
        }),
    ),
  ).finally(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));
}

function rssOf(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function tailLogs(dir: string): string {
  let out = '';
  for (const name of ['mon.a', 'mgr.x', 'osd.0', 'client.rgw.a']) {
    for (const f of [`${name}.log`, `${name}.out`]) {
      try {
        const text = readFileSync(join(dir, 'log', f), 'utf8').trim();
        if (text) out += `\n--- ${f} (last lines) ---\n${text.split('\n').slice(-15).join('\n')}`;
      } catch {
        // no such log
      }
    }
  }
  return out;
}

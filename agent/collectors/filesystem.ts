import { join } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Logger } from 'pino';
import { RegexString } from '../../lib/formats.js';
import { DeviceFilter } from './device-filter.js';
import { readKernelFile } from './kernel-file.js';
import {
  functionBackend,
  type StatfsBackend,
  StatfsError,
  StatfsProcess,
  type StatfsResult,
} from './statfs-process.js';
import type { Collector, CollectorDescriptor } from './types.js';

/** node_exporter's default --collector.filesystem.mount-points-exclude. */
export const DEFAULT_MOUNT_POINTS_EXCLUDE =
  '^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)';
/** node_exporter's default --collector.filesystem.fs-types-exclude. */
export const DEFAULT_FS_TYPES_EXCLUDE =
  '^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|erofs|sysfs|tracefs)$';

export interface Mount {
  mountPoint: string;
  device: string;
  fsType: string;
  major: string;
  minor: string;
  readOnly: boolean;
}

/**
 * Undoes the kernel's escaping in /proc/<pid>/mountinfo, which writes space, tab, newline and
 * backslash as \040, \011, \012 and \134 (fs/proc_namespace.c, mangle()).
 */
export function decodeMountField(field: string): string {
  if (!field.includes('\\')) return field;
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/**
 * /proc/<pid>/mountinfo (proc(5)): "id parent major:minor root mountpoint options [optional…] -
 * fstype source superoptions". Read-only when the mount or the superblock says "ro" (or the
 * superblock "emergency_ro", as node_exporter checks).
 */
export function parseMountInfo(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const f = line.split(' ');
    const dash = f.indexOf('-', 6);
    if (dash < 0 || dash + 2 >= f.length) continue;
    const [major = '', minor = ''] = f[2]!.split(':');
    const options = f[5]!.split(',');
    const superOptions = (f[dash + 3] ?? '').split(',');
    out.push({
      mountPoint: decodeMountField(f[4]!),
      device: decodeMountField(f[dash + 2] ?? ''),
      fsType: decodeMountField(f[dash + 1] ?? ''),
      major,
      minor,
      readOnly:
        options.includes('ro') || superOptions.includes('ro') || superOptions.includes('emergency_ro'),
    });
  }
  return out;
}

/**
 * One entry per mount point, the last one listed: when something is mounted over a mount point
 * (or a bind mount repeats it), the kernel lists the topmost mount last and that is what statfs sees.
 */
export function dedupeMounts(mounts: Mount[]): Mount[] {
  const byPoint = new Map<string, Mount>();
  for (const m of mounts) {
    byPoint.delete(m.mountPoint);
    byPoint.set(m.mountPoint, m);
  }
  return [...byPoint.values()];
}

export type StatfsOutcome =
  | { ok: true; stats: StatfsResult }
  /** stuck: the mount did not answer in time, earlier or now. */
  | { ok: false; error: string; stuck: boolean };

export interface StatfsGuardStats {
  /** statfs calls sent to the current worker and not answered yet (at most one per mount). */
  pending: number;
  /** Mount points currently marked stuck. */
  stuck: string[];
  /** Worker processes alive (including killed ones not exited yet). */
  processes: number;
  /** Times the worker was given up on because too many calls hung. */
  abandoned: number;
}

export interface StatfsGuardOptions {
  timeoutMs: number;
  /** More calls hanging than this after a cycle: the worker is killed and a fresh one started. */
  maxPending: number;
  /** How many statfs calls run at once, besides the hanging ones. */
  concurrency: number;
  log: Logger;
}

interface Call {
  generation: number;
  mountPoint: string;
  timedOut: boolean;
}

/**
 * Decides which mounts get a statfs call in a cycle, so that a hung mount costs at most one
 * blocked call, and the cycle ends on time whatever the mounts do.
 *
 * - A call not answered within the deadline marks its mount stuck (device_error 1). While that call
 *   is outstanding the mount is not asked again; when its late answer arrives, it is healthy again.
 * - More than maxPending outstanding calls after a cycle: the worker is killed (its threads are
 *   the ones eaten) and the calls forgotten; the mounts stay stuck. A new worker starts at the next
 *   call. No kill while an earlier killed worker has not exited, so at most two processes exist.
 * - A stuck mount whose call was forgotten is asked again only while fewer than maxPending calls
 *   are outstanding, so re-probing hung mounts cannot push the worker over the limit by itself:
 *   with any number of permanently hung mounts, outstanding calls stay at most maxPending plus
 *   the mounts that newly hung this cycle, and the worker is killed only when a new one hangs.
 * - At most maxPending + concurrency calls are in flight at once (the worker's thread count), so
 *   no call queues behind hung ones inside the worker; one that cannot start before the deadline
 *   is reported as an error of this cycle, not as stuck.
 */
export class StatfsGuard {
  private generation = 0;
  private readonly pending = new Map<string, Call>();
  private readonly stuck = new Set<string>();
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private abandoned = 0;

  constructor(
    private readonly backend: StatfsBackend,
    private readonly options: StatfsGuardOptions,
  ) {}

  get slots(): number {
    return this.options.maxPending + this.options.concurrency;
  }

  /** statfs of every mount, answered or given up within the deadline (or when signal aborts). */
  async statAll(
    targets: { mountPoint: string; path: string }[],
    signal?: AbortSignal,
  ): Promise<Map<string, StatfsOutcome>> {
    const outcomes = new Map<string, StatfsOutcome>();
    let reprobeBudget = this.options.maxPending - this.pending.size;
    let expire!: () => void;
    const deadline = new Promise<void>((resolve) => {
      expire = resolve;
    });
    const timer = setTimeout(expire, this.options.timeoutMs);
    const onAbort = () => expire();
    signal?.addEventListener('abort', onAbort, { once: true });
    let expired = false;
    void deadline.then(() => {
      expired = true;
    });
    try {
      const asks: Promise<void>[] = [];
      for (const t of targets) {
        if (this.pending.has(t.mountPoint)) {
          outcomes.set(t.mountPoint, { ok: false, error: 'mountpoint timeout', stuck: true });
          continue;
        }
        if (this.stuck.has(t.mountPoint)) {
          if (reprobeBudget <= 0) {
            outcomes.set(t.mountPoint, { ok: false, error: 'mountpoint timeout', stuck: true });
            continue;
          }
          reprobeBudget--;
        }
        asks.push(
          this.ask(t.mountPoint, t.path, deadline, () => expired).then((outcome) => {
            outcomes.set(t.mountPoint, outcome);
          }),
        );
      }
      await Promise.all(asks);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      expire();
      // Every caller that waited for a slot has given up by now (cycles never overlap).
      this.waiting.length = 0;
    }
    this.afterCycle();
    return outcomes;
  }

  stats(): StatfsGuardStats {
    return {
      pending: this.pending.size,
      stuck: [...this.stuck].sort(),
      processes: this.backend.processes(),
      abandoned: this.abandoned,
    };
  }

  private async ask(
    mountPoint: string,
    path: string,
    deadline: Promise<void>,
    expired: () => boolean,
  ): Promise<StatfsOutcome> {
    if (this.inFlight >= this.slots) {
      const started = await Promise.race([
        new Promise<boolean>((resolve) => this.waiting.push(() => resolve(true))),
        deadline.then(() => false),
      ]);
      if (!started || expired()) {
        return {
          ok: false,
          error: 'statfs not started before the deadline: all statfs slots busy',
          stuck: false,
        };
      }
    }
    this.inFlight++;
    const call: Call = { generation: this.generation, mountPoint, timedOut: false };
    const answer = this.backend.statfs(path).then(
      (stats): StatfsOutcome => ({ ok: true, stats }),
      (error: unknown): StatfsOutcome => ({
        ok: false,
        error:
          error instanceof StatfsError
            ? error.description || error.code
            : String((error as Error)?.message ?? error),
        stuck: false,
      }),
    );
    void answer.then(() => this.answered(call));
    const first = await Promise.race([answer, deadline.then(() => undefined)]);
    if (first !== undefined) return first;
    call.timedOut = true;
    this.pending.set(mountPoint, call);
    if (!this.stuck.has(mountPoint)) {
      this.stuck.add(mountPoint);
      this.options.log.warn({ mountpoint: mountPoint }, 'statfs did not answer in time: mount marked stuck');
    }
    return { ok: false, error: 'mountpoint timeout', stuck: true };
  }

  private answered(call: Call): void {
    // A call of a worker given up on: its slot and mount were already forgotten.
    if (call.generation !== this.generation) return;
    this.inFlight--;
    this.waiting.shift()?.();
    if (call.timedOut && this.pending.get(call.mountPoint) === call) {
      this.pending.delete(call.mountPoint);
      if (this.stuck.delete(call.mountPoint)) {
        this.options.log.info({ mountpoint: call.mountPoint }, 'statfs answered late: mount no longer stuck');
      }
    }
  }

  private afterCycle(): void {
    if (this.pending.size <= this.options.maxPending || !this.backend.canAbandon()) return;
    this.generation++;
    this.abandoned++;
    this.pending.clear();
    this.inFlight = 0;
    this.backend.abandon();
  }
}

const Options = Type.Object({
  mountPointsExclude: RegexString({
    default: DEFAULT_MOUNT_POINTS_EXCLUDE,
    description:
      'Regular expression of mount points to leave out (node_exporter --collector.filesystem.mount-points-exclude).',
  }),
  mountPointsInclude: RegexString({
    default: '',
    description:
      'Regular expression of the only mount points to report; empty means all. Applies together with mountPointsExclude.',
  }),
  fsTypesExclude: RegexString({
    default: DEFAULT_FS_TYPES_EXCLUDE,
    description:
      'Regular expression of file system types to leave out (node_exporter --collector.filesystem.fs-types-exclude).',
  }),
  fsTypesInclude: RegexString({
    default: '',
    description:
      'Regular expression of the only file system types to report; empty means all. Applies together with fsTypesExclude.',
  }),
  statfsTimeoutSeconds: Type.Number({
    exclusiveMinimum: 0,
    maximum: 60,
    default: 5,
    description: 'How long a cycle waits for statfs answers; a mount that does not answer is marked stuck.',
  }),
  statfsMaxPending: Type.Integer({
    minimum: 1,
    maximum: 64,
    default: 2,
    description: 'Hanging statfs calls tolerated before the statfs worker process is killed and restarted.',
  }),
  statfsConcurrency: Type.Integer({
    minimum: 1,
    maximum: 64,
    default: 4,
    description: 'statfs calls run at once.',
  }),
});
export type FilesystemOptions = Static<typeof Options>;

export interface FilesystemDeps {
  log: Logger;
  /** Replaces the statfs worker process (tests: fixture mount points do not exist). */
  statfs?: (path: string) => Promise<StatfsResult>;
}

export interface FilesystemCollector extends Collector {
  stats(): StatfsGuardStats;
}

const LABELS_HELP = {
  size: 'Filesystem size in bytes.',
  free: 'Filesystem free space in bytes.',
  avail: 'Filesystem space available to non-root users in bytes.',
  files: 'Filesystem total file nodes.',
  filesFree: 'Filesystem total free file nodes.',
  readonly: 'Filesystem read-only status.',
  deviceError: 'Whether an error occurred while getting statistics for the given device.',
  mountInfo: 'Filesystem mount information.',
};

/** Where a mount point is seen from the agent: under rootfs when the agent runs in a container. */
function hostPath(rootfs: string, mountPoint: string): string {
  return rootfs === '/' || rootfs === '' ? mountPoint : join(rootfs, mountPoint);
}

/** node_exporter's --path.rootfs rule: mount points under rootfs are shown without it. */
function stripRootfs(rootfs: string, mountPoint: string): string {
  if (rootfs === '/' || rootfs === '' || !mountPoint.startsWith(rootfs)) return mountPoint;
  return mountPoint.slice(rootfs.length) || '/';
}

async function readMountInfo(procRoot: string): Promise<string> {
  try {
    return await readKernelFile(join(procRoot, '1/mountinfo'));
  } catch (error) {
    // /proc/1 is hidden with hidepid=2, or the agent lives in its own pid namespace without it.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EACCES') throw error;
    return await readKernelFile(join(procRoot, 'self/mountinfo'));
  }
}

export function createFilesystemCollector(
  given: Partial<FilesystemOptions>,
  deps: FilesystemDeps,
): FilesystemCollector {
  const options = Value.Default(Options, { ...given }) as FilesystemOptions;
  const mountPoints = new DeviceFilter(options.mountPointsExclude, options.mountPointsInclude, {
    exclude: 'collectors.filesystem.mountPointsExclude',
    include: 'collectors.filesystem.mountPointsInclude',
  });
  const fsTypes = new DeviceFilter(options.fsTypesExclude, options.fsTypesInclude, {
    exclude: 'collectors.filesystem.fsTypesExclude',
    include: 'collectors.filesystem.fsTypesInclude',
  });
  let backend: StatfsBackend;
  if (deps.statfs) {
    backend = functionBackend(deps.statfs);
  } else {
    const worker = new StatfsProcess({
      threads: options.statfsMaxPending + options.statfsConcurrency,
      log: deps.log,
    });
    worker.start();
    backend = worker;
  }
  const guard = new StatfsGuard(backend, {
    timeoutMs: options.statfsTimeoutSeconds * 1000,
    maxPending: options.statfsMaxPending,
    concurrency: options.statfsConcurrency,
    log: deps.log,
  });

  return {
    async collect(ctx) {
      const mounts = dedupeMounts(parseMountInfo(await readMountInfo(ctx.procRoot))).filter(
        (m) => !mountPoints.ignored(m.mountPoint) && !fsTypes.ignored(m.fsType),
      );
      const outcomes = await guard.statAll(
        mounts.map((m) => ({ mountPoint: m.mountPoint, path: hostPath(ctx.rootfs, m.mountPoint) })),
        ctx.signal,
      );
      const r = ctx.registry;
      const deviceError = r.gauge('node_filesystem_device_error', LABELS_HELP.deviceError);
      const readonly = r.gauge('node_filesystem_readonly', LABELS_HELP.readonly);
      const size = r.gauge('node_filesystem_size_bytes', LABELS_HELP.size);
      const free = r.gauge('node_filesystem_free_bytes', LABELS_HELP.free);
      const avail = r.gauge('node_filesystem_avail_bytes', LABELS_HELP.avail);
      const files = r.gauge('node_filesystem_files', LABELS_HELP.files);
      const filesFree = r.gauge('node_filesystem_files_free', LABELS_HELP.filesFree);
      const mountInfo = r.gauge('node_filesystem_mount_info', LABELS_HELP.mountInfo);
      for (const m of mounts) {
        const outcome = outcomes.get(m.mountPoint);
        if (!outcome) continue;
        const mountpoint = stripRootfs(ctx.rootfs, m.mountPoint);
        // Labels in name order, as node_exporter writes them (the exposition keeps the given order).
        const labels: Record<string, string> = { device: m.device, fstype: m.fsType, mountpoint };
        if (!outcome.ok) {
          // As node_exporter: the reason goes into a device_error label of the failing series.
          const failed = { device: m.device, device_error: outcome.error, fstype: m.fsType, mountpoint };
          deviceError.set(failed, 1);
          readonly.set(failed, m.readOnly ? 1 : 0);
          continue;
        }
        const s = outcome.stats;
        deviceError.set(labels, 0);
        readonly.set(labels, m.readOnly ? 1 : 0);
        size.set(labels, s.blocks * s.bsize);
        free.set(labels, s.bfree * s.bsize);
        avail.set(labels, s.bavail * s.bsize);
        files.set(labels, s.files);
        filesFree.set(labels, s.ffree);
        mountInfo.set({ device: m.device, major: m.major, minor: m.minor, mountpoint }, 1);
      }
      const stats = guard.stats();
      r.gauge(
        'creditops_filesystem_statfs_pending',
        'statfs calls sent and not answered yet (at most one per hung mount).',
      ).value(stats.pending);
      r.gauge(
        'creditops_filesystem_stuck_mounts',
        'Mount points whose statfs did not answer in time and has not answered since.',
      ).value(stats.stuck.length);
      r.gauge(
        'creditops_filesystem_statfs_workers',
        'statfs worker processes alive, including killed ones not exited yet.',
      ).value(stats.processes);
      r.counter(
        'creditops_filesystem_statfs_worker_restarts_total',
        'Times the statfs worker was killed because too many calls hung.',
      ).value(stats.abandoned);
    },
    stats: () => guard.stats(),
    close: () => backend.close(),
  };
}

export const filesystem = {
  name: 'filesystem',
  description:
    'Size, free space and inodes of mounted file systems (node_filesystem_*), with hung mounts isolated.',
  defaultIntervalSeconds: 15,
  defaultTimeoutSeconds: 10,
  options: Options,
  create: createFilesystemCollector,
} satisfies CollectorDescriptor<FilesystemOptions>;

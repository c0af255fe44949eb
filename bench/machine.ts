/**
 * What else the machine was doing while a bench ran: the CPU time of the
 * whole machine (from /proc/stat) and of our own processes (from
 * /proc/<pid>/stat, children included), so a figure measured on a shared
 * machine says how shared it was. Linux only; elsewhere the figures are
 * reported as unknown.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';

/** Clock ticks per second of /proc's CPU counters (USER_HZ; 100 on every Linux we run on). */
const TICKS_PER_SECOND = 100;

export interface CpuSample {
  at: number;
  /** Ticks of the whole machine, all cores added. */
  busy: number;
  steal: number;
  total: number;
  /** CPU ticks of our process trees so far, descendants that exited and were reaped included. */
  ours: number;
}

export interface CpuReport {
  wallSeconds: number;
  cores: number;
  /** Cores in use on average, by anyone (steal excluded). */
  busyCores: number;
  /** Cores' worth of time the hypervisor gave to other machines. */
  stealCores: number;
  /** Cores in use by the process trees we watch. */
  ourCores: number;
  /** busyCores - ourCores: other people's work (test runs, ...). */
  otherCores: number;
}

function readMachine(): { busy: number; steal: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    const busy = user + nice + system + irq + softirq;
    return { busy, steal, total: busy + idle + iowait + steal };
  } catch {
    return null;
  }
}

interface ProcStat {
  pid: number;
  ppid: number;
  ticks: number;
}

function readProcesses(): ProcStat[] {
  const out: ProcStat[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return out;
  }
  for (const entry of entries) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: fields start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime + stime, and cutime + cstime: the CPU of its children that exited and were waited for.
      const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number);
      out.push({ pid: Number(entry), ppid: Number(fields[1]), ticks: utime + stime + cutime + cstime });
    } catch {
      // exited while we read
    }
  }
  return out;
}

/**
 * CPU ticks used so far by the processes of the trees rooted at `roots`
 * (each counted once), with those of reaped descendants, which the kernel
 * adds to their parent: a sandbox that exits between two samples is still
 * counted, as long as its parent lives.
 */
function treeTicks(roots: readonly number[]): number {
  const procs = readProcesses();
  const children = new Map<number, ProcStat[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const seen = new Set<number>();
  const stack = roots.flatMap((r) => (byPid.has(r) ? [byPid.get(r)!] : []));
  let ticks = 0;
  while (stack.length) {
    const p = stack.pop()!;
    if (seen.has(p.pid)) continue;
    seen.add(p.pid);
    ticks += p.ticks;
    stack.push(...(children.get(p.pid) ?? []));
  }
  return ticks;
}

/** Samples the machine and the process trees rooted at `roots` (default: this process). */
export function sampleCpu(roots: readonly number[] = [process.pid]): CpuSample | null {
  const machine = readMachine();
  if (!machine) return null;
  return { at: performance.now(), ...machine, ours: treeTicks(roots) };
}

/** CPU use between two samples of the same roots. */
export function cpuBetween(a: CpuSample | null, b: CpuSample | null): CpuReport | null {
  if (!a || !b) return null;
  const cores = availableParallelism();
  const wallSeconds = (b.at - a.at) / 1000;
  const totalTicks = b.total - a.total;
  if (totalTicks <= 0 || wallSeconds <= 0) return null;
  // /proc/stat adds up all cores: its ticks per wall second are cores × TICKS_PER_SECOND.
  const toCores = (ticks: number) => (ticks / totalTicks) * cores;
  const ourTicks = Math.max(0, b.ours - a.ours);
  const busyCores = toCores(b.busy - a.busy);
  const ourCores = ourTicks / TICKS_PER_SECOND / wallSeconds;
  return {
    wallSeconds,
    cores,
    busyCores,
    stealCores: toCores(b.steal - a.steal),
    ourCores,
    otherCores: Math.max(0, busyCores - ourCores),
  };
}

export function describeCpu(report: CpuReport | null): string {
  if (!report) return 'machine CPU use unknown (no /proc)';
  const f = (n: number) => n.toFixed(2);
  return (
    `CPU over ${report.wallSeconds.toFixed(1)} s: ${f(report.busyCores)} of ${report.cores} cores busy, ` +
    `${f(report.ourCores)} by this bench's processes, ${f(report.otherCores)} by others` +
    (report.stealCores >= 0.01 ? `, ${f(report.stealCores)} stolen by the hypervisor` : '')
  );
}

export function loadAverage(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

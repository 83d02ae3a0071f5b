import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  pgrp: number;
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
}

/**
 * Parses /proc/<pid>/stat. The command name (field 2) sits in parentheses and may itself hold spaces or ')', so fields
 * are counted from the last ')'.
 */
export function parseProcStat(text: string): ProcStat {
  const close = text.lastIndexOf(')');
  const pid = Number.parseInt(text, 10);
  if (close < 0 || Number.isNaN(pid)) throw new Error(`not a /proc/<pid>/stat line: ${text.slice(0, 80)}`);
  // After ')': state(3) ppid(4) pgrp(5) session(6) tty_nr(7) tpgid(8) flags(9) minflt(10) cminflt(11) majflt(12)
  // cmajflt(13) utime(14) stime(15).
  const fields = text.slice(close + 2).trim().split(/\s+/);
  const field = (n: number) => Number(fields[n - 3]);
  return { pid, pgrp: field(5), cpuTicks: field(14) + field(15) };
}

/** Linux's USER_HZ; 100 on every mainstream kernel and architecture. */
export const ticksPerSecond = 100;

/** CPU ticks used so far by every live process of each process group (a supervised piece with its children). */
export function groupTicks(groups: ReadonlySet<number>): Map<number, number> {
  const totals = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: ProcStat;
    try {
      stat = parseProcStat(readFileSync(`/proc/${entry}/stat`, 'utf8'));
    } catch {
      continue; // exited while we looked
    }
    if (groups.has(stat.pgrp)) totals.set(stat.pgrp, (totals.get(stat.pgrp) ?? 0) + stat.cpuTicks);
  }
  return totals;
}

/** Describes the machine a benchmark ran on: CPUs, kernel, Node and Python versions. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

function tryRun(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch {
    return undefined;
  }
}

/** @returns {{ nproc: number, cpu: string, kernel: string, node: string, python: string, cc: string|undefined, date: string, nofile: string|undefined }} */
export function machineInfo() {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch { /* not Linux: keep os.cpus()'s name */ }
  const python = tryRun('python3', ['-c', 'import sys; print(sys.version.split()[0])']) ?? 'not found';
  return {
    nproc: Number(tryRun('nproc', [])) || os.availableParallelism?.() || os.cpus().length,
    cpu,
    kernel: `${os.type()} ${os.release()} ${os.machine?.() ?? process.arch}`,
    node: process.version,
    python,
    cc: tryRun('cc', ['--version'])?.split('\n')[0],
    nofile: tryRun('sh', ['-c', 'ulimit -n']),
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
}

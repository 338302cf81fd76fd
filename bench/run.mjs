/**
 * `npm run bench`: runs every benchmark, prints the tables (with ratios) on stdout and
 * progress on stderr, and writes docs/BENCHMARKS.md plus the SVG charts in docs/img/.
 *
 *   node bench/run.mjs [--quick] [--only scale,micro,echo,http] [--no-docs]
 *
 * --quick    short batches and durations (about a minute in all; rougher figures)
 * --only     run only the named parts (scale, micro, echo, http)
 * --no-docs  print the tables but leave docs/ alone
 * --report-only  rewrite docs/ from the last run's figures (bench/.build/last-run.json)
 *
 * Parts: bench/scale.mjs (readiness-call cost vs idle fds, iomux vs CPython),
 * bench/micro.mjs (what iomux's code adds per hot-path step),
 * bench/echo/run-echo.mjs (echo round trips/s vs C, Node net and CPython servers), and
 * bench/http.mjs when it exists (its stdout, Markdown, is included as is).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { machineInfo } from './lib/machine.mjs';
import { runScale, scaleTable } from './scale.mjs';
import { runEcho, echoTable } from './echo/run-echo.mjs';
import { runMicro, microTable } from './micro.mjs';
import { writeReport, targets } from './lib/report.mjs';
import { table } from './lib/format.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const noDocs = argv.includes('--no-docs');
const oi = argv.indexOf('--only');
const only = oi >= 0 ? new Set((argv[oi + 1] ?? '').split(',')) : null;
for (const a of argv) {
  if (a.startsWith('--') && !['--quick', '--no-docs', '--only', '--report-only'].includes(a)) {
    console.error(`bench: unknown option ${a} (expected --quick, --only scale,micro,echo,http, --no-docs)`);
    process.exit(2);
  }
}
const want = (part) => !only || only.has(part);
const root0 = fileURLToPath(new URL('..', import.meta.url));
if (argv.includes('--report-only')) {
  // Re-render docs/ from the last run's figures (after editing bench/ANALYSIS.md, say).
  const last = JSON.parse(readFileSync(root0 + 'bench/.build/last-run.json', 'utf8'));
  const commands = ['npm run bench' + (last.quick ? ' -- --quick' : '') + '   # = npx tsc -p tsconfig.json && node bench/run.mjs' + (last.quick ? ' --quick' : '')];
  writeReport({ docsDir: root0 + 'docs/', commands, ...last });
  console.error('bench: re-rendered docs/BENCHMARKS.md and docs/img/ from bench/.build/last-run.json');
  process.exit(0);
}
const log = (s) => process.stderr.write(s + '\n');
const t0 = performance.now();

const machine = machineInfo();
log(`bench: ${machine.cpu}, ${machine.nproc} CPUs, ${machine.kernel}, Node ${machine.node}, Python ${machine.python}${quick ? ' (quick)' : ''}`);

let scale, echo, micro, http;
if (want('scale')) {
  log('bench: scale (N idle fds + 1 ready)...');
  scale = await runScale({ quick, log });
  console.log('\n## Scaling: one readiness call with N idle fds + 1 ready\n');
  console.log(scaleTable(scale));
}
if (want('micro')) {
  log('bench: micro (hot-path steps)...');
  micro = await runMicro({ quick, log });
  console.log('\n## Hot-path micro-costs\n');
  console.log(microTable(micro));
}
if (want('echo')) {
  log('bench: echo (1 and 50 connections)...');
  echo = await runEcho({ quick, log });
  console.log('\n## Echo: round trips per second\n');
  console.log(echoTable(echo));
}
if (want('http') && existsSync(root + 'bench/http.mjs')) {
  log('bench: http (bench/http.mjs)...');
  http = await new Promise((resolve) => {
    const p = spawn(process.execPath, [root + 'bench/http.mjs', ...(quick ? ['--quick'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.on('close', (code) => resolve(code === 0 ? out : `${out}\n\n(bench/http.mjs exited with status ${code})`));
  });
  console.log('\n## HTTP client\n');
  console.log(http.trim());
}

const tg = targets(scale, echo);
if (tg.length) {
  console.log('\n## Targets\n');
  console.log(table(['Target', 'Measured', 'Goal', 'Result'], tg));
}
const elapsed = (performance.now() - t0) / 1000;
// Every figure of the run, for later comparison (gitignored).
mkdirSync(root + 'bench/.build', { recursive: true });
writeFileSync(root + 'bench/.build/last-run.json', JSON.stringify({ machine, quick, scale, micro, echo, http, elapsed }, null, 2));
if (!noDocs) {
  const commands = ['npm run bench' + (quick ? ' -- --quick' : '') + '   # = npx tsc -p tsconfig.json && node bench/run.mjs' + (quick ? ' --quick' : '')];
  if (only) commands[0] = `npx tsc -p tsconfig.json && node bench/run.mjs ${argv.join(' ')}`;
  writeReport({ docsDir: root + 'docs/', machine, commands, scale, echo, micro, http, quick, elapsed });
  log(`bench: wrote docs/BENCHMARKS.md${scale ? ', docs/img/scale.svg' : ''}${echo ? ', docs/img/echo.svg' : ''}`);
}
log(`bench: done in ${elapsed.toFixed(0)} s`);

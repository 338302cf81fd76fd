#!/usr/bin/env node
/**
 * The `iomux` command: `iomux <command> [options]`. Each command lives in its own module,
 * loaded on demand, and exports `run…(argv): Promise<number>` returning the exit status.
 *
 * Errors are one line on stderr (`iomux echo: --port must be …`) and a non-zero exit:
 * 2 for a bad command line, 1 for anything that went wrong while running. Set
 * `IOMUX_DEBUG=1` to get the stack trace as well.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from './args.js';

/** A subcommand: runs with its arguments and resolves to the process exit status. */
type Runner = (argv: string[]) => Promise<number>;

interface Command {
  summary: string;
  load(): Promise<Runner>;
}

const COMMANDS: Record<string, Command> = {
  demo: {
    summary: 'echo server + client fleet on loopback: round trips/s for each backend',
    load: async () => (await import('./demo.js')).runDemo,
  },
  echo: {
    summary: 'run an echo server until SIGINT/SIGTERM (blocking loop or Reactor)',
    load: async () => (await import('./echo.js')).runEcho,
  },
  copy: {
    summary: 'copy SRC to DST for several pairs at once, driven by poll()',
    load: async () => (await import('./copy.js')).runCopy,
  },
  fetch: {
    summary: 'fetch http:// and https:// URLs concurrently with the HTTP client',
    load: async () => (await import('./fetch.js')).runFetch,
  },
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'Usage: iomux <command> [options]',
    '',
    "Python's I/O multiplexing (select, poll, epoll, selectors, sockets) for Node.js.",
    '',
    'Commands:',
    ...lines,
    '',
    "Run 'iomux <command> --help' for a command's options.",
    'Options: --help, --version',
    '',
  ].join('\n');
}

function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0] ?? '';
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const cmd = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!cmd) {
    process.stderr.write(`iomux: unknown command '${name}' (expected one of: ${Object.keys(COMMANDS).join(', ')}; see iomux --help)\n`);
    return 2;
  }
  try {
    const run = await cmd.load();
    return await run(rest);
  } catch (e) {
    if (process.env['IOMUX_DEBUG']) console.error(e);
    if (e instanceof UsageError) {
      process.stderr.write(`iomux ${name}: ${oneLine(e)} (see iomux ${name} --help)\n`);
      return 2;
    }
    process.stderr.write(`iomux ${name}: ${oneLine(e)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));

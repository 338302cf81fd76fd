/**
 * Command-line plumbing shared by the `iomux` subcommands: option parsing on top of
 * `node:util`'s `parseArgs`, the usage error type, and number checks that name the bad
 * value. Every failure surfaces as ONE line on stderr and a non-zero exit (see main.ts).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in the command line: printed as one line, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Option specs for {@link parse}: `parseArgs` options, all long names. */
export type Options = NonNullable<ParseArgsConfig['options']>;

/** The parsed command line: option values by name, and the positional arguments. */
export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * Parses `argv` strictly against `options` (plus `--help`/`-h`). Unknown options and
 * missing values become a {@link UsageError} naming the offending argument.
 */
export function parse(argv: string[], options: Options, allowPositionals: boolean): Parsed {
  try {
    const r = parseArgs({
      args: joinNegativeValues(argv, options),
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals,
      strict: true,
    });
    return { values: r.values as Parsed['values'], positionals: r.positionals };
  } catch (e) {
    // parseArgs' messages are clear but long (a hint about '--'): keep the first sentence.
    const msg = String((e as Error).message).split('\n')[0]!;
    const unknown = /^Unknown option '([^']*)'/.exec(msg);
    throw new UsageError(unknown ? `unknown option '${unknown[1]}'` : msg.replace(/\. .*$/, ''));
  }
}

/**
 * `--size -5` as `--size=-5`: parseArgs takes a value that starts with '-' for an option
 * and calls it ambiguous; a negative number after an option that takes a value is that
 * value (and then reported by the option's own range check).
 */
function joinNegativeValues(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const long = /^--([^=]+)$/.exec(arg)?.[1];
    const name = long ?? Object.keys(options).find((k) => arg.length === 2 && options[k]!.short === arg[1]);
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/**
 * Reads option `name` as a number in [min, max] (an integer when `integer`), or returns
 * `fallback` when absent.
 * @throws UsageError naming the option and the value.
 */
export function numberOption(
  p: Parsed, name: string, fallback: number, min: number, max: number, integer = true,
): number {
  const raw = p.values[name];
  if (raw === undefined) return fallback;
  const s = String(raw).trim();
  const n = s === '' ? NaN : Number(s);
  const kind = integer ? 'an integer' : 'a number';
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
    throw new UsageError(`--${name} must be ${kind} from ${min} to ${max}, got '${raw}'`);
  }
  return n;
}

/**
 * Reads option `name` as one of `choices`, or returns `fallback` when absent.
 * @throws UsageError listing the accepted values.
 */
export function choiceOption<T extends string>(p: Parsed, name: string, choices: readonly T[], fallback: T): T {
  const raw = p.values[name];
  if (raw === undefined) return fallback;
  if (!(choices as readonly string[]).includes(String(raw))) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${raw}'`);
  }
  return raw as T;
}

/** A string option, or `fallback` when absent. */
export function stringOption(p: Parsed, name: string, fallback: string): string {
  const raw = p.values[name];
  return raw === undefined ? fallback : String(raw);
}

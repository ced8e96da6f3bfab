import type { Redactor } from './secrets.js';

/** The flag whose values are secrets whatever their length (`--env KEY=VALUE`, `--env=KEY=VALUE`). */
const ENV_FLAG = '--env';

function redactAssignment(entry: string): string {
  const eq = entry.indexOf('=');
  return eq === -1 ? entry : `${entry.slice(0, eq + 1)}[REDACTED]`;
}

/**
 * A command line as it may be recorded (job.json, reports): every `--env KEY=VALUE` value replaced whole, every
 * other argument through the redactor (a secret pasted anywhere else, in any form it covers).
 */
export function redactCommandLine(argv: readonly string[], redactor: Redactor): string[] {
  return argv.map((arg, i) => {
    if (arg.startsWith(`${ENV_FLAG}=`)) return `${ENV_FLAG}=${redactAssignment(arg.slice(ENV_FLAG.length + 1))}`;
    if (i > 0 && argv[i - 1] === ENV_FLAG) return redactAssignment(redactor.redact(arg));
    return redactor.redact(arg);
  });
}

import { secretsPattern } from './redact-forms.js';
import { redactTree } from './redact-tree.js';

/** Names that mark a variable as a secret: forwarded to the agent, redacted everywhere it could be persisted. */
const SECRET_NAME = /(_API_KEY$|_TOKEN$|SECRET|PASSWORD|CREDENTIAL)/i;

/** Endpoint variables (ANTHROPIC_BASE_URL, OPENAI_BASE_URL, GOOGLE_GEMINI_BASE_URL, …): forwarded, not secret. */
const ENDPOINT_NAME = /_BASE_URL$/;

export const REDACTED = '[REDACTED]';
/** Values this short would redact ordinary text (a "1" token would erase every digit): forwarded but not treated as secrets. */
const MIN_SECRET_LENGTH = 4;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

export interface ForwardedEnv {
  /** Variables handed to the agent. */
  env: Record<string, string>;
  /** Literal values to redact. */
  secrets: string[];
}

/**
 * Picks the variables an agent receives: every secret-looking variable of the host, every `*_BASE_URL` endpoint
 * variable (how users reach proxies and gateways; not secret), plus each `--env` entry
 * (`KEY` copies the host's value, `KEY=VALUE` sets it). `--env` values are treated as secrets too.
 */
export function collectForwardedEnv(hostEnv: NodeJS.ProcessEnv, extra: readonly string[] = []): ForwardedEnv {
  const env: Record<string, string> = {};
  const secrets = new Set<string>();
  for (const [name, value] of Object.entries(hostEnv)) {
    if (value === undefined || value === '') continue;
    if (isSecretName(name)) {
      env[name] = value;
      secrets.add(value);
    } else if (ENDPOINT_NAME.test(name)) {
      env[name] = value;
    }
  }
  for (const entry of extra) {
    const eq = entry.indexOf('=');
    const name = eq === -1 ? entry : entry.slice(0, eq);
    const value = eq === -1 ? hostEnv[name] : entry.slice(eq + 1);
    if (value === undefined) continue;
    env[name] = value;
    if (value !== '') secrets.add(value);
  }
  return { env, secrets: [...secrets] };
}

/**
 * Replaces secrets — literal and encoded (redact-forms.ts) — in text, bytes and trees. Bytes are matched as latin1,
 * one character per byte, so everything but a match is written back unchanged.
 */
export class Redactor {
  private readonly secrets: string[];
  private readonly textPattern: RegExp | undefined;
  private readonly bytePattern: RegExp | undefined;

  constructor(secrets: readonly string[]) {
    this.secrets = [...new Set(secrets)].filter((s) => s.length >= MIN_SECRET_LENGTH);
    this.textPattern = secretsPattern(this.secrets, 'text');
    this.bytePattern = secretsPattern(this.secrets, 'bytes');
  }

  /** A redactor for these secrets and `more` (a trial's own: its gateway token). */
  with(more: readonly string[]): Redactor {
    return new Redactor([...this.secrets, ...more]);
  }

  get active(): boolean {
    return this.secrets.length > 0;
  }

  redact(text: string): string {
    return this.textPattern ? text.replace(this.textPattern, REDACTED) : text;
  }

  /**
   * A JSON value with every string in it (keys too) redacted. Redacting the serialised text instead breaks it
   * when a secret is also a JSON word or number (`--env MODE=true`, a numeric PIN).
   */
  redactValue<T>(value: T): T {
    if (!this.active) return value;
    const walk = (item: unknown): unknown => {
      if (typeof item === 'string') return this.redact(item);
      if (Array.isArray(item)) return item.map(walk);
      if (item !== null && typeof item === 'object')
        return Object.fromEntries(Object.entries(item).map(([key, entry]) => [this.redact(key), walk(entry)]));
      return item;
    };
    return walk(value) as T;
  }

  /** The same buffer when nothing matched. */
  redactBuffer(data: Buffer): Buffer {
    if (!this.bytePattern) return data;
    const latin1 = data.toString('latin1');
    const out = latin1.replace(this.bytePattern, REDACTED);
    return out === latin1 ? data : Buffer.from(out, 'latin1');
  }

  /**
   * Redacts everything under `dir`: file contents (archives and compressed files after unpacking), file and
   * directory names, symlink targets. Links are not followed. Returns how many entries changed.
   */
  async redactTree(dir: string): Promise<number> {
    return this.active ? redactTree(dir, this) : 0;
  }
}

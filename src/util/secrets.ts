import type { Dirent } from 'node:fs';
import { lstat, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

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

/** Replaces the literal values of secrets in text and bytes. */
export class Redactor {
  private readonly secrets: string[];
  private readonly buffers: Buffer[];

  constructor(secrets: readonly string[]) {
    // Longest first, so a secret that contains another is replaced whole.
    this.secrets = [...new Set(secrets)]
      .filter((s) => s.length >= MIN_SECRET_LENGTH)
      .sort((a, b) => b.length - a.length);
    this.buffers = this.secrets.map((s) => Buffer.from(s));
  }

  get active(): boolean {
    return this.secrets.length > 0;
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  }

  redactBuffer(data: Buffer): Buffer {
    let out = data;
    for (const secret of this.buffers) {
      if (out.indexOf(secret) === -1) continue;
      const parts: Buffer[] = [];
      let from = 0;
      for (let at = out.indexOf(secret); at !== -1; at = out.indexOf(secret, from)) {
        parts.push(out.subarray(from, at), Buffer.from(REDACTED));
        from = at + secret.length;
      }
      parts.push(out.subarray(from));
      out = Buffer.concat(parts);
    }
    return out;
  }

  /** Rewrites every regular file under `dir` that contains a secret. Links are not followed. */
  async redactTree(dir: string): Promise<number> {
    if (!this.active) return 0;
    let rewritten = 0;
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return 0;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) rewritten += await this.redactTree(path);
      else if (entry.isFile()) {
        const stat = await lstat(path);
        const data = await readFile(path);
        const redacted = this.redactBuffer(data);
        if (redacted !== data) {
          await writeFile(path, redacted, { mode: stat.mode });
          rewritten += 1;
        }
      }
    }
    return rewritten;
  }
}

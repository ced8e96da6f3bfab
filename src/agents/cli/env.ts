import { AgentError } from '../../errors.js';

/**
 * Translating skill-eval's forwarded variables into what each CLI needs. Users set one key and, optionally, one
 * base URL per provider family (ANTHROPIC_*, GEMINI_API_KEY / GOOGLE_GEMINI_BASE_URL, OPENAI_*); each harness
 * turns them into its CLI's own env, settings file or config.
 */

/** The key an agent cannot run without; a missing one fails before any model call (the preflight should have caught it). */
export function requireKey(env: Record<string, string>, name: string, agent: string): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new AgentError(`${agent}: ${name} is not set`, {
      beforeFirstModelCall: true,
      hint: `export ${name}=… (or pass --env ${name}=…)`,
    });
  }
  return value;
}

/** A base URL from the forwarded env, validated and without a trailing slash; undefined when unset. */
export function baseUrl(env: Record<string, string>, name: string, agent: string): string | undefined {
  const value = env[name];
  if (value === undefined || value.trim() === '') return undefined;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new AgentError(`${agent}: ${name} is not a URL: ${value}`, { beforeFirstModelCall: true });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AgentError(`${agent}: ${name} must be an http(s) URL, found ${value}`, { beforeFirstModelCall: true });
  }
  return url.toString().replace(/\/+$/, '');
}

/**
 * Splits a bash command line into words the way bash would for plain words and quotes ('…', "…", \x), enough
 * to unwrap the `bash -c '<command>'` CLIs report. Returns undefined for anything it does not understand.
 */
export function shellSplit(line: string): string[] | undefined {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end === -1) return undefined;
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let text = '';
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && j + 1 < line.length && '\\"$`\n'.includes(line[j + 1]!)) j++;
        text += line[j];
      }
      if (j >= line.length) return undefined;
      word = (word ?? '') + text;
      i = j;
    } else if (c === '\\') {
      if (i + 1 >= line.length) return undefined;
      word = (word ?? '') + line[i + 1];
      i++;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

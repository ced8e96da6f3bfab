import { UsageError } from '../errors.js';
import { shellQuote } from '../util/shell.js';

/**
 * Command templates for the trainer and the server: `{name}` placeholders, `{{` and `}}` for literal
 * braces. Values are inserted shell-quoted (a path with spaces stays one word), so a template never
 * quotes a placeholder itself. Every placeholder is checked before anything runs.
 */

export const TRAINER_PLACEHOLDERS = [
  'model',
  'base_model',
  'out_dir',
  'steps',
  'segment',
  'total_steps',
  'segment_dir',
] as const;
export const SERVE_PLACEHOLDERS = ['checkpoint', 'port', 'host', 'segment'] as const;
export const MODEL_NAME_PLACEHOLDERS = ['checkpoint', 'segment'] as const;

const PLACEHOLDER = /\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}|[{}]/g;

/** The placeholders a template uses; throws a UsageError naming the flag for unknown ones and stray braces. */
export function checkTemplate(flag: string, template: string, allowed: readonly string[]): string[] {
  const used: string[] = [];
  for (const match of template.matchAll(PLACEHOLDER)) {
    const token = match[0];
    if (token === '{{' || token === '}}') continue;
    const name = match[1];
    if (name === undefined)
      throw new UsageError(`${flag}: a lone "${token}" at character ${match.index}`, {
        hint: 'write {{ and }} for literal braces',
      });
    if (!allowed.includes(name))
      throw new UsageError(`${flag}: unknown placeholder {${name}}`, {
        hint: `${flag} may use ${allowed.map((p) => `{${p}}`).join(', ')}`,
      });
    used.push(name);
  }
  return used;
}

/** Fills a checked template; `quote: false` for values that are not shell words (a model name). */
export function renderTemplate(
  template: string,
  values: Readonly<Record<string, string>>,
  options: { quote?: boolean } = {},
): string {
  const quote = options.quote ?? true;
  return template.replace(PLACEHOLDER, (token: string, name: string | undefined) => {
    if (token === '{{') return '{';
    if (token === '}}') return '}';
    const value = name === undefined ? undefined : values[name];
    if (value === undefined) throw new UsageError(`template ${JSON.stringify(template)}: no value for ${token}`);
    return quote ? shellQuote(value) : value;
  });
}

/** The same values as environment variables (`SKILL_EVAL_SWEEP_OUT_DIR`, …), for scripts that prefer them. */
export function placeholderEnv(values: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([name, value]) => [`SKILL_EVAL_SWEEP_${name.toUpperCase()}`, value]),
  );
}

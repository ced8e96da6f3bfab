import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parse as parseToml } from 'smol-toml';

/**
 * Hint mining: the commands a benchmark's own files show for setting it up, testing, generating and
 * evaluating, each with the file and line it came from. Deterministic, no model: the same tree gives the
 * same hints in the same order.
 */

export type HintClass = 'setup' | 'test' | 'eval' | 'generate' | 'other';
export type HintSource = 'readme' | 'docs' | 'ci' | 'makefile' | 'package.json' | 'pyproject';

export interface Hint {
  command: string;
  file: string;
  line: number;
  source: HintSource;
  class: HintClass;
  /** For Makefile targets and package scripts: what the name stands for. */
  detail?: string | undefined;
}

export interface HintReport {
  hints: Hint[];
  /** Distinctive tokens of the eval commands: module paths, script paths, tool names. */
  anchors: string[];
}

const SHELL_LANGUAGES = new Set([
  '',
  'bash',
  'sh',
  'shell',
  'console',
  'zsh',
  'shell-session',
  'shellsession',
  'terminal',
]);
/** Programs too common to identify a benchmark. */
const GENERIC_PROGRAMS = new Set([
  'python',
  'python3',
  'python2',
  'py',
  'bash',
  'sh',
  'zsh',
  'node',
  'npx',
  'npm',
  'pnpm',
  'yarn',
  'bun',
  'deno',
  'uv',
  'uvx',
  'pip',
  'pip3',
  'poetry',
  'pipenv',
  'conda',
  'make',
  'cd',
  'export',
  'source',
  'echo',
  'sudo',
  'env',
  'time',
  'cat',
  'ls',
  'mkdir',
  'cp',
  'mv',
  'rm',
  'git',
  'docker',
  'run',
  'exec',
  'set',
  'tsx',
  'ts-node',
  'accelerate',
  'torchrun',
  'then',
  'do',
  'for',
  'if',
  'fi',
  'done',
  'test',
  'true',
  'false',
  'nohup',
]);
const COMMAND_START =
  /^(?:\$\s+)?(?:[A-Z_][A-Z0-9_]*=\S*\s+)*(?:python3?|pip3?|uv|uvx|poetry|conda|npm|npx|pnpm|yarn|node|bash|sh|make|cargo|go|pytest|docker|git|cd|export|source|tsx|deno|bun|accelerate|torchrun|lm_eval|lm-eval|\.\/\S+|[a-z][\w.-]*(?:\s+-{1,2}\w|\s+\w+\.\w+))/;

const EVAL_WORDS = new Set([
  'eval',
  'evals',
  'evaluate',
  'evaluation',
  'evaluator',
  'score',
  'scorer',
  'scoring',
  'benchmark',
  'metric',
  'metrics',
  'harness',
  'grade',
  'grader',
  'judge',
  'accuracy',
  'lm_eval',
]);
const GENERATE_WORDS = new Set([
  'generate',
  'generation',
  'gen',
  'rollout',
  'inference',
  'infer',
  'sample',
  'sampling',
  'predict',
  'predictions',
  'completion',
  'completions',
  'solve',
]);
const TEST_WORDS = new Set([
  'pytest',
  'unittest',
  'nose',
  'nose2',
  'tox',
  'nox',
  'jest',
  'vitest',
  'mocha',
  'ctest',
  'phpunit',
  'rspec',
  'test',
  'tests',
  'check',
]);

/** Word parts of a command: `bench/score.mjs --out x` → bench, score, mjs, out, x. */
function words(command: string): Set<string> {
  const lower = command.toLowerCase();
  return new Set([...lower.split(/[^a-z0-9_]+/), ...lower.split(/[^a-z0-9]+/)].filter(Boolean));
}

export function classifyCommand(command: string): HintClass {
  const c = command.toLowerCase();
  if (
    /\b(pip3?|uv pip|poetry|conda|mamba|npm|pnpm|yarn|bun) (install|ci|sync|add|create|env)\b|\bapt(-get)? install\b|\bsetup\.py (install|develop)\b|\buv sync\b|\bdocker (build|pull)\b|\bgit clone\b|\bmake (install|setup|deps)\b|requirements.*\.txt|\bvenv\b|\bbrew install\b/.test(
      c,
    )
  )
    return 'setup';
  const parts = words(command);
  const has = (set: Set<string>): boolean => [...parts].some((part) => set.has(part));
  // Passing a results file to a command does not make it an evaluation; its program and verbs do.
  if (has(EVAL_WORDS) || /pass@|lm-eval/.test(c)) return 'eval';
  if (has(GENERATE_WORDS)) return 'generate';
  if (has(TEST_WORDS) || /\b(go|cargo|npm|pnpm|yarn) test\b/.test(c)) return 'test';
  return 'other';
}

function cleanShellLine(line: string): string | undefined {
  let text = line.trim();
  if (text === '' || text.startsWith('#') || text.startsWith('@') || text.startsWith('//')) return undefined;
  text = text.replace(/^(?:\$|>|%)\s+/, '');
  if (text === '' || /^[A-Z][a-z]+( [a-z]+){3,}[.:]$/.test(text)) return undefined; // prose
  return text;
}

/** Fenced shell blocks of a Markdown file; continuation lines (`\`) are joined. */
export function mineMarkdown(text: string, file: string, source: HintSource): Hint[] {
  const hints: Hint[] = [];
  const lines = text.split('\n');
  let fence: { marker: string; language: string } | undefined;
  let pending: { command: string; line: number } | undefined;
  for (const [index, raw] of lines.entries()) {
    const open = /^\s*(```+|~~~+)\s*([\w+-]*)/.exec(raw);
    if (!fence && open) {
      fence = { marker: open[1]!, language: open[2]!.toLowerCase() };
      continue;
    }
    if (fence && raw.trim().startsWith(fence.marker.slice(0, 3)) && raw.trim().replace(/[`~]/g, '') === '') {
      fence = undefined;
      pending = undefined;
      continue;
    }
    if (!fence || !SHELL_LANGUAGES.has(fence.language)) continue;
    if (pending) {
      pending.command += ` ${raw.trim().replace(/\\$/, '').trim()}`;
      if (!raw.trimEnd().endsWith('\\')) {
        hints.push({
          command: pending.command,
          file,
          line: pending.line,
          source,
          class: classifyCommand(pending.command),
        });
        pending = undefined;
      }
      continue;
    }
    const command = cleanShellLine(raw);
    if (!command) continue;
    // In an unlabelled fence, only lines that look like commands (output and prose are common there).
    if (fence.language === '' && !COMMAND_START.test(command)) continue;
    if (fence.language === 'console' && !/^\s*[$%>]\s/.test(raw)) continue;
    if (command.endsWith('\\')) {
      pending = { command: command.replace(/\\$/, '').trim(), line: index + 1 };
      continue;
    }
    hints.push({ command, file, line: index + 1, source, class: classifyCommand(command) });
  }
  return hints;
}

/** `run:` steps of a GitHub Actions workflow (inline and block scalars), one hint per command line. */
export function mineWorkflow(text: string, file: string): Hint[] {
  const hints: Hint[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const match = /^(\s*)(?:-\s+)?run:\s*(.*)$/.exec(lines[i]!);
    if (!match) continue;
    const value = match[2]!.trim();
    if (value && !/^[|>][-+]?\d*$/.test(value)) {
      const command = value.replace(/^["']|["']$/g, '');
      hints.push({ command, file, line: i + 1, source: 'ci', class: classifyCommand(command) });
      continue;
    }
    const keyIndent = lines[i]!.indexOf('run:');
    let pending: { command: string; line: number } | undefined;
    for (let j = i + 1; j < lines.length; j++) {
      const line = lines[j]!;
      if (line.trim() === '') continue;
      const indent = line.length - line.trimStart().length;
      if (indent <= keyIndent) break;
      i = j;
      const command = cleanShellLine(line);
      if (!command) continue;
      if (pending) {
        pending.command += ` ${command.replace(/\\$/, '').trim()}`;
        if (!command.endsWith('\\')) {
          hints.push({
            command: pending.command,
            file,
            line: pending.line,
            source: 'ci',
            class: classifyCommand(pending.command),
          });
          pending = undefined;
        }
        continue;
      }
      if (command.endsWith('\\')) pending = { command: command.replace(/\\$/, '').trim(), line: j + 1 };
      else hints.push({ command, file, line: j + 1, source: 'ci', class: classifyCommand(command) });
    }
  }
  return hints;
}

/** Each Makefile target becomes `make TARGET`, classified by its name and recipe. */
export function mineMakefile(text: string, file: string): Hint[] {
  const hints: Hint[] = [];
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    const match = /^([A-Za-z0-9][\w.-]*)\s*:(?!=)/.exec(line);
    if (!match) continue;
    const target = match[1]!;
    const recipe: string[] = [];
    for (let j = index + 1; j < lines.length && lines[j]!.startsWith('\t'); j++)
      recipe.push(lines[j]!.trim().replace(/^@/, ''));
    const detail = recipe.join('; ');
    const byName = classifyCommand(`make ${target}`);
    hints.push({
      command: `make ${target}`,
      file,
      line: index + 1,
      source: 'makefile',
      class: byName === 'other' ? classifyCommand(detail) : byName,
      detail: detail || undefined,
    });
  }
  return hints;
}

function lineOf(text: string, needle: RegExp): number {
  const lines = text.split('\n');
  const index = lines.findIndex((line) => needle.test(line));
  return index === -1 ? 1 : index + 1;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function minePackageJson(text: string, file: string): Hint[] {
  let scripts: Record<string, unknown> = {};
  try {
    scripts = ((JSON.parse(text) as { scripts?: Record<string, unknown> }).scripts ?? {}) as Record<string, unknown>;
  } catch {
    return [];
  }
  return Object.entries(scripts)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
    .map(([name, script]) => {
      const byName = classifyCommand(`npm run ${name}`);
      return {
        command: `npm run ${name}`,
        file,
        line: lineOf(text, new RegExp(`^\\s*"${escapeRegex(name)}"\\s*:`)),
        source: 'package.json' as const,
        class: byName === 'other' ? classifyCommand(script) : byName,
        detail: script,
      };
    });
}

export function minePyproject(text: string, file: string): Hint[] {
  let document: Record<string, unknown>;
  try {
    document = parseToml(text) as Record<string, unknown>;
  } catch {
    return [];
  }
  const project = document.project as { scripts?: Record<string, unknown> } | undefined;
  const poetry = (document.tool as Record<string, unknown> | undefined)?.poetry as
    | { scripts?: Record<string, unknown> }
    | undefined;
  const entries = { ...poetry?.scripts, ...project?.scripts };
  return Object.entries(entries)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
    .map(([name, entryPoint]) => {
      const byName = classifyCommand(name);
      return {
        command: name,
        file,
        line: lineOf(text, new RegExp(`^\\s*"?${escapeRegex(name)}"?\\s*=`)),
        source: 'pyproject' as const,
        class: byName === 'other' ? classifyCommand(entryPoint) : byName,
        detail: entryPoint,
      };
    });
}

/** Tokens that identify how a benchmark evaluates: module paths, script paths and tool names. */
export function anchorsOf(command: string, detail?: string): string[] {
  const anchors: string[] = [];
  for (const text of [command, detail ?? '']) {
    const tokens = text
      .split(/\s+|;|&&|\|\|/)
      .map((t) => t.replace(/^["'`(]+|["'`),:]+$/g, ''))
      .filter(Boolean);
    for (const [index, token] of tokens.entries()) {
      if (/^[A-Z_][A-Z0-9_]*=/.test(token)) continue;
      if (tokens[index - 1] === '-m' && /^[\w.]+$/.test(token)) anchors.push(token);
      else if (/^(?:\.\/)?[\w.-]+(?:\/[\w.-]+)*\.(?:py|sh|js|mjs|ts|rb|pl|jl)$/.test(token))
        anchors.push(token.replace(/^\.\//, ''));
      else if (
        /^[a-z_][\w]*(?:\.[a-z_][\w]*){1,}$/i.test(token) &&
        !/\.(json|jsonl|txt|csv|yaml|yml|md|toml|parquet|log)$/i.test(token)
      )
        anchors.push(token);
      else if (index === 0 && /^[a-z][\w-]{2,}$/i.test(token) && !GENERIC_PROGRAMS.has(token.toLowerCase()))
        anchors.push(token);
    }
  }
  return anchors;
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

async function listDir(path: string): Promise<string[]> {
  return readdir(path).then(
    (names) => names.sort(),
    () => [],
  );
}

/** Markdown under docs/ (two levels deep at most, 200 files at most: enough for any real benchmark). */
async function docsFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    for (const name of await listDir(dir)) {
      if (found.length >= 200) return;
      const path = join(dir, name);
      const info = await stat(path).catch(() => undefined);
      if (info?.isDirectory() && depth < 2) await walk(path, depth + 1);
      else if (info?.isFile() && /\.(md|markdown)$/i.test(name)) found.push(path);
    }
  };
  await walk(join(root, 'docs'), 0);
  return found;
}

export async function mineHints(root: string): Promise<HintReport> {
  const hints: Hint[] = [];
  const rel = (path: string): string => relative(root, path);
  for (const name of await listDir(root)) {
    if (/^readme(\.[\w]+)?$/i.test(name) && (await isFile(join(root, name))))
      hints.push(...mineMarkdown(await readFile(join(root, name), 'utf8'), name, 'readme'));
  }
  for (const path of await docsFiles(root))
    hints.push(...mineMarkdown(await readFile(path, 'utf8'), rel(path), 'docs'));
  const workflows = join(root, '.github', 'workflows');
  for (const name of await listDir(workflows)) {
    if (/\.ya?ml$/.test(name))
      hints.push(...mineWorkflow(await readFile(join(workflows, name), 'utf8'), rel(join(workflows, name))));
  }
  for (const name of ['Makefile', 'makefile', 'GNUmakefile']) {
    if (await isFile(join(root, name))) hints.push(...mineMakefile(await readFile(join(root, name), 'utf8'), name));
  }
  if (await isFile(join(root, 'package.json')))
    hints.push(...minePackageJson(await readFile(join(root, 'package.json'), 'utf8'), 'package.json'));
  if (await isFile(join(root, 'pyproject.toml')))
    hints.push(...minePyproject(await readFile(join(root, 'pyproject.toml'), 'utf8'), 'pyproject.toml'));

  const anchors: string[] = [];
  for (const hint of hints) {
    if (hint.class !== 'eval') continue;
    for (const anchor of anchorsOf(hint.command, hint.detail)) if (!anchors.includes(anchor)) anchors.push(anchor);
  }
  return { hints, anchors };
}

/** A plain-text listing, one hint per line: `[eval] README.md:12  python -m bench.score`. */
export function formatHints(report: HintReport): string {
  const lines = report.hints.map(
    (h) =>
      `[${h.class}] ${h.file}:${h.line}  ${h.command}${h.detail && h.detail !== h.command ? `   (${h.detail})` : ''}`,
  );
  lines.push('', `anchors: ${report.anchors.length > 0 ? report.anchors.join(', ') : '(none)'}`);
  return lines.join('\n');
}

import { parseDocument } from 'yaml';
import { z } from 'zod';
import type { Problem } from '../errors.js';
import { describeValue, field, isPlainObject, TableReader } from '../util/problems.js';

/**
 * SKILL.md per the Agent Skills spec: YAML frontmatter between `---` lines (name, description, license,
 * compatibility, allowed-tools, metadata), then Markdown instructions. Pure: text in, fields and problems out.
 */

export const SKILL_NAME_MAX = 64;
export const SKILL_DESCRIPTION_MAX = 1024;
export const SKILL_COMPATIBILITY_MAX = 500;
/** Lowercase letters and digits in runs joined by single hyphens: no leading, trailing or doubled hyphen. */
export const SKILL_NAME_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const SKILL_FRONTMATTER_KEYS = [
  'name',
  'description',
  'license',
  'compatibility',
  'allowed-tools',
  'metadata',
] as const;

const NAME_EXPECTED = `lowercase letters, digits and single hyphens, not starting or ending with a hyphen, at most ${SKILL_NAME_MAX} characters`;

/** The spec's characters (an error otherwise: the name becomes a folder name); its length is checked apart. */
export function isValidSkillName(name: string): boolean {
  return name.length > 0 && SKILL_NAME_PATTERN.test(name);
}

export interface ParsedSkillMd {
  hasFrontmatter: boolean;
  name: string;
  description: string;
  license?: string | undefined;
  compatibility?: string | undefined;
  allowedTools?: string[] | undefined;
  metadata?: Record<string, unknown> | undefined;
  /** The Markdown after the frontmatter. */
  body: string;
  /** Errors and warnings, in file order. */
  problems: Problem[];
}

interface SplitFrontmatter {
  /** YAML text between the fences; undefined when the file has no frontmatter. */
  yaml?: string | undefined;
  /** 1-based line of the first YAML line in the file. */
  yamlStartLine: number;
  body: string;
  /** Set when an opening fence has no closing one. */
  unclosed?: boolean | undefined;
}

const FENCE = /^---[ \t]*$/;

export function splitFrontmatter(text: string): SplitFrontmatter {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines.length === 0 || !FENCE.test(lines[0] ?? '')) return { yamlStartLine: 1, body: lines.join('\n') };
  const close = lines.findIndex((line, index) => index > 0 && (FENCE.test(line) || /^\.\.\.[ \t]*$/.test(line)));
  if (close === -1) return { yamlStartLine: 2, body: '', unclosed: true };
  return { yaml: lines.slice(1, close).join('\n'), yamlStartLine: 2, body: lines.slice(close + 1).join('\n') };
}

/** The first paragraph of Markdown that is not a heading, on one line: a stand-in description. */
export function firstParagraph(markdown: string): string {
  for (const block of markdown.split(/\r?\n\s*\r?\n/)) {
    const text = block
      .split(/\r?\n/)
      .filter((line) => !/^\s*#/.test(line))
      .join(' ')
      .replace(/\s+/g, ' ')
      .trim();
    if (text !== '') return text.length > SKILL_DESCRIPTION_MAX ? text.slice(0, SKILL_DESCRIPTION_MAX) : text;
  }
  return '';
}

const descriptionSpec = field(
  z.string().refine((s) => s.trim() !== '', 'empty'),
  `a non-empty string of at most ${SKILL_DESCRIPTION_MAX} characters saying what the skill does and when to use it`,
);
const licenseSpec = field(z.string(), 'a string (license name or bundled license file)');
const compatibilitySpec = field(z.string(), `a string of at most ${SKILL_COMPATIBILITY_MAX} characters`);

/**
 * The spec's length limits are warnings: published skills exceed them (Anthropic's own descriptions run past
 * 1,024 characters) and agents load them anyway, so refusing such a skill would measure something no agent does.
 */
function warnIfLonger(
  value: string | undefined,
  max: number,
  where: { file: string; key: string },
  problems: Problem[],
) {
  if (value === undefined || value.length <= max) return;
  problems.push({
    ...where,
    message: `longer than the Agent Skills spec allows (${max} characters); loaded anyway, but some agents may cut it short`,
    expected: `at most ${max} characters`,
    found: `${value.length} characters`,
    severity: 'warning',
  });
}
const allowedToolsSpec = field(
  z.union([z.string().transform((s) => s.split(/\s+/).filter((t) => t !== '')), z.array(z.string())]),
  'a space-separated string or a list of tool names',
);
const metadataSpec = field(z.record(z.string(), z.unknown()), 'a mapping of keys to values');

/** Parses SKILL.md. `file` names it in problems; `folderName` is the skill's folder (the name it should have). */
export function parseSkillMd(text: string, options: { file: string; folderName: string }): ParsedSkillMd {
  const { file, folderName } = options;
  const problems: Problem[] = [];
  const split = splitFrontmatter(text);
  const result: ParsedSkillMd = {
    hasFrontmatter: split.yaml !== undefined,
    name: folderName,
    description: '',
    body: split.body,
    problems,
  };

  if (split.unclosed) {
    problems.push({
      file,
      message: 'frontmatter opened with --- is never closed',
      expected: 'a line with --- after the frontmatter',
      found: 'end of file',
      severity: 'error',
    });
    return result;
  }
  if (split.yaml === undefined) {
    result.description = firstParagraph(split.body);
    problems.push({
      file,
      message:
        'no YAML frontmatter; using the folder name as the skill name and the first paragraph as its description',
      expected: 'a file starting with ---, name: and description: lines, then ---',
      severity: 'warning',
    });
    checkName(folderName, folderName, file, problems, undefined);
    return result;
  }

  const document = parseDocument(split.yaml, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    for (const error of document.errors) {
      const position = error.linePos?.[0];
      const where = position ? ` at line ${position.line + split.yamlStartLine - 1}, column ${position.col}` : '';
      const reason = (error.message.split(/ at line \d+/)[0] ?? error.message).split('\n')[0];
      problems.push({
        file,
        message: `invalid YAML frontmatter${where}: ${reason}`,
        expected: 'valid YAML',
        severity: 'error',
      });
    }
    return result;
  }
  const data: unknown = document.toJS() ?? {};
  if (!isPlainObject(data)) {
    problems.push({
      file,
      message: 'frontmatter must be a mapping of keys to values',
      expected: 'a YAML mapping (name: …, description: …)',
      found: describeValue(data, 'mapping'),
      severity: 'error',
    });
    return result;
  }

  const reader = new TableReader(data, '', {
    file,
    problems,
    mapWord: 'mapping',
    unknownMessage: `unknown frontmatter key; ignored (the Agent Skills spec allows ${SKILL_FRONTMATTER_KEYS.join(', ')})`,
  });

  const rawName = reader.raw('name');
  if (rawName === undefined) {
    problems.push({
      file,
      key: 'name',
      message: 'missing; using the folder name',
      expected: NAME_EXPECTED,
      severity: 'warning',
    });
    checkName(folderName, folderName, file, problems, undefined);
  } else if (typeof rawName !== 'string') {
    reader.error('name', 'invalid value', `a string of ${NAME_EXPECTED}`, describeValue(rawName, 'mapping'));
  } else {
    result.name = rawName;
    checkName(rawName, folderName, file, problems, 'name');
  }

  if (!reader.has('description')) {
    reader.raw('description');
    reader.error('description', 'missing', descriptionSpec.expected);
  } else {
    result.description = reader.read('description', descriptionSpec) ?? '';
  }
  result.license = reader.read('license', licenseSpec);
  result.compatibility = reader.read('compatibility', compatibilitySpec);
  warnIfLonger(result.description, SKILL_DESCRIPTION_MAX, { file, key: 'description' }, problems);
  warnIfLonger(result.compatibility, SKILL_COMPATIBILITY_MAX, { file, key: 'compatibility' }, problems);
  result.allowedTools = reader.read('allowed-tools', allowedToolsSpec);
  result.metadata = reader.read('metadata', metadataSpec);
  reader.finish();
  return result;
}

function checkName(name: string, folderName: string, file: string, problems: Problem[], key: string | undefined): void {
  if (!isValidSkillName(name)) {
    const problem: Problem = {
      file,
      message: key === undefined ? 'the folder name is not a valid skill name' : 'invalid skill name',
      expected: NAME_EXPECTED,
      found: describeValue(name),
      severity: 'error',
    };
    if (key !== undefined) problem.key = key;
    problems.push(problem);
    return;
  }
  warnIfLonger(name, SKILL_NAME_MAX, { file, key: key ?? 'name' }, problems);
  if (name !== folderName) {
    problems.push({
      file,
      key: 'name',
      message: `differs from the folder name "${folderName}"; agents may find the skill under either name`,
      expected: `"${folderName}"`,
      found: describeValue(name),
      severity: 'warning',
    });
  }
}

import { describe, expect, it } from 'vitest';
import type { Problem } from '../../src/errors.js';
import { firstParagraph, isValidSkillName, parseSkillMd, splitFrontmatter } from '../../src/skills/parse.js';

const FILE = 'tasks/demo/skills/pdf-tools/SKILL.md';

function parse(text: string, folderName = 'pdf-tools') {
  return parseSkillMd(text, { file: FILE, folderName });
}
function errors(problems: Problem[]): Problem[] {
  return problems.filter((p) => p.severity === 'error');
}
function warnings(problems: Problem[]): Problem[] {
  return problems.filter((p) => p.severity === 'warning');
}
function skillMd(frontmatter: string, body = '# PDF tools\n\nUse pdftotext.\n'): string {
  return `---\n${frontmatter}\n---\n${body}`;
}

describe('parseSkillMd: valid frontmatter', () => {
  it('reads every field of the Agent Skills spec', () => {
    const parsed = parse(
      skillMd(`name: pdf-tools
description: Extract text and tables from PDF files. Use when a task involves PDFs.
license: Apache-2.0
compatibility: Needs poppler-utils
allowed-tools: Bash(pdftotext:*) Read
metadata:
  author: ada
  version: "1.2"`),
    );
    expect(parsed.problems).toEqual([]);
    expect(parsed).toMatchObject({
      hasFrontmatter: true,
      name: 'pdf-tools',
      description: 'Extract text and tables from PDF files. Use when a task involves PDFs.',
      license: 'Apache-2.0',
      compatibility: 'Needs poppler-utils',
      allowedTools: ['Bash(pdftotext:*)', 'Read'],
      metadata: { author: 'ada', version: '1.2' },
    });
    expect(parsed.body).toContain('Use pdftotext.');
  });

  it('accepts allowed-tools as a list', () => {
    const parsed = parse(skillMd('name: pdf-tools\ndescription: d\nallowed-tools: [Bash, Read]'));
    expect(parsed.allowedTools).toEqual(['Bash', 'Read']);
    expect(parsed.problems).toEqual([]);
  });

  it('accepts CRLF line endings and a BOM', () => {
    const parsed = parse('\uFEFF---\r\nname: pdf-tools\r\ndescription: Works on PDFs\r\n---\r\nBody\r\n');
    expect(parsed.problems).toEqual([]);
    expect(parsed.description).toBe('Works on PDFs');
  });
});

describe('parseSkillMd: names', () => {
  it.each(['pdf', 'pdf-tools', 'a1-b2-c3', 'x'.repeat(64), 'x'.repeat(65)])('accepts %s', (name) => {
    expect(isValidSkillName(name)).toBe(true);
  });

  it('warns about a name over 64 characters and still loads it under that name', () => {
    const name = 'x'.repeat(65);
    const parsed = parse(
      skillMd(`name: ${name}
description: d`),
      name,
    );
    expect(errors(parsed.problems)).toEqual([]);
    expect(parsed.name).toBe(name);
    expect(warnings(parsed.problems)).toEqual([
      expect.objectContaining({ key: 'name', expected: 'at most 64 characters', found: '65 characters' }),
    ]);
  });

  it.each(['PDF-Tools', '-pdf', 'pdf-', 'pdf--tools', 'pdf_tools', 'pdf tools', ''])('rejects %j', (name) => {
    expect(isValidSkillName(name)).toBe(false);
    expect(parse(skillMd(`name: ${JSON.stringify(name)}\ndescription: d`)).problems[0]?.found).toBe(
      `${JSON.stringify(name)} (string)`,
    );
    const parsed = parse(skillMd(`name: ${JSON.stringify(name)}\ndescription: d`));
    expect(errors(parsed.problems)).toEqual([
      expect.objectContaining({
        file: FILE,
        key: 'name',
        found: expect.stringMatching(/ \(string\)$/),
        expected: expect.stringContaining('lowercase letters'),
      }),
    ]);
  });

  it('warns when the name differs from the folder name', () => {
    const parsed = parse(skillMd('name: pdf-kit\ndescription: d'));
    expect(errors(parsed.problems)).toEqual([]);
    expect(warnings(parsed.problems)).toEqual([
      expect.objectContaining({ key: 'name', expected: '"pdf-tools"', found: '"pdf-kit" (string)' }),
    ]);
    expect(parsed.name).toBe('pdf-kit');
  });

  it('falls back to the folder name with a warning when name is missing', () => {
    const parsed = parse(skillMd('description: d'));
    expect(parsed.name).toBe('pdf-tools');
    expect(errors(parsed.problems)).toEqual([]);
    expect(warnings(parsed.problems)).toEqual([
      expect.objectContaining({ key: 'name', message: expect.stringContaining('missing') }),
    ]);
  });

  it('rejects a name that is not a string', () => {
    const parsed = parse(skillMd('name: 42\ndescription: d'));
    expect(errors(parsed.problems)).toEqual([expect.objectContaining({ key: 'name', found: '42 (number)' })]);
  });
});

describe('parseSkillMd: descriptions', () => {
  it('requires a description', () => {
    const parsed = parse(skillMd('name: pdf-tools'));
    expect(errors(parsed.problems)).toEqual([
      expect.objectContaining({ file: FILE, key: 'description', message: 'missing' }),
    ]);
  });

  it.each([
    ['empty', 'description: ""', '"" (string)'],
    ['blank', 'description: "   "', '"   " (string)'],
    ['not a string', 'description: [a, b]', '["a","b"] (array)'],
    ['null', 'description:', 'null'],
  ])('rejects a %s description', (_label, line, found) => {
    const parsed = parse(skillMd(`name: pdf-tools\n${line}`));
    expect(errors(parsed.problems)).toEqual([
      expect.objectContaining({ key: 'description', found, expected: expect.stringContaining('non-empty') }),
    ]);
  });

  it('warns about a description over 1024 characters, keeps all of it, and is silent at exactly 1024', () => {
    const long = parse(skillMd(`name: pdf-tools\ndescription: ${'a'.repeat(1025)}`));
    expect(errors(long.problems)).toEqual([]);
    expect(long.description).toHaveLength(1025);
    expect(warnings(long.problems)).toEqual([
      expect.objectContaining({ key: 'description', expected: 'at most 1024 characters', found: '1025 characters' }),
    ]);
    expect(parse(skillMd(`name: pdf-tools\ndescription: ${'a'.repeat(1024)}`)).problems).toEqual([]);
  });
});

describe('parseSkillMd: other fields', () => {
  it('warns about compatibility over 500 characters and keeps it', () => {
    const parsed = parse(skillMd(`name: pdf-tools\ndescription: d\ncompatibility: ${'c'.repeat(501)}`));
    expect(errors(parsed.problems)).toEqual([]);
    expect(parsed.compatibility).toHaveLength(501);
    expect(warnings(parsed.problems)).toEqual([expect.objectContaining({ key: 'compatibility' })]);
  });

  it('rejects allowed-tools that is neither a string nor a list of strings', () => {
    const parsed = parse(skillMd('name: pdf-tools\ndescription: d\nallowed-tools: { Bash: true }'));
    expect(errors(parsed.problems)).toEqual([
      expect.objectContaining({ key: 'allowed-tools', found: '{"Bash":true} (mapping)' }),
    ]);
  });

  it('rejects metadata that is not a mapping', () => {
    const parsed = parse(skillMd('name: pdf-tools\ndescription: d\nmetadata: [1, 2]'));
    expect(errors(parsed.problems)).toEqual([expect.objectContaining({ key: 'metadata', found: '[1,2] (array)' })]);
  });

  it('warns about unknown frontmatter keys', () => {
    const parsed = parse(skillMd('name: pdf-tools\ndescription: d\nversion: 2\nauthor: ada'));
    expect(errors(parsed.problems)).toEqual([]);
    expect(warnings(parsed.problems).map((p) => p.key)).toEqual(['version', 'author']);
    expect(warnings(parsed.problems)[0]?.message).toContain('unknown frontmatter key');
  });
});

describe('parseSkillMd: frontmatter shape', () => {
  it('accepts a file without frontmatter, with a warning, using the first paragraph', () => {
    const parsed = parse('# PDF tools\n\nExtract text from PDFs\nwith pdftotext.\n\nMore details.\n');
    expect(parsed.hasFrontmatter).toBe(false);
    expect(parsed.name).toBe('pdf-tools');
    expect(parsed.description).toBe('Extract text from PDFs with pdftotext.');
    expect(errors(parsed.problems)).toEqual([]);
    expect(warnings(parsed.problems)).toEqual([
      expect.objectContaining({ file: FILE, message: expect.stringContaining('no YAML frontmatter') }),
    ]);
  });

  it('gives an empty description to a file with only headings', () => {
    expect(parse('# Title\n').description).toBe('');
  });

  it('reports a folder name that is not a valid skill name when there is no frontmatter', () => {
    const parsed = parse('Body', 'PDF_Tools');
    expect(errors(parsed.problems)).toEqual([expect.objectContaining({ found: '"PDF_Tools" (string)' })]);
  });

  it('reports malformed YAML with its line in SKILL.md', () => {
    const parsed = parse('---\nname: pdf-tools\ndescription: [unclosed\n---\nBody\n');
    const [problem, ...rest] = errors(parsed.problems);
    expect(problem).toMatchObject({ file: FILE, expected: 'valid YAML', severity: 'error' });
    expect(problem?.message).toMatch(/^invalid YAML frontmatter at line [34], column \d+: /);
    expect(rest.every((p) => p.message.startsWith('invalid YAML frontmatter'))).toBe(true);
  });

  it('reports duplicate keys', () => {
    const parsed = parse(skillMd('name: pdf-tools\nname: pdf-kit\ndescription: d'));
    expect(errors(parsed.problems)[0]?.message).toContain('line 3');
  });

  it('reports an unclosed frontmatter fence', () => {
    const parsed = parse('---\nname: pdf-tools\ndescription: d\n');
    expect(errors(parsed.problems)).toEqual([
      expect.objectContaining({ message: expect.stringContaining('never closed') }),
    ]);
  });

  it('reports frontmatter that is not a mapping', () => {
    const parsed = parse(skillMd('- a\n- b'));
    expect(errors(parsed.problems)).toEqual([
      expect.objectContaining({ message: expect.stringContaining('mapping'), found: '["a","b"] (array)' }),
    ]);
  });

  it('treats empty frontmatter as missing description', () => {
    const parsed = parse('---\n---\nBody\n');
    expect(errors(parsed.problems).map((p) => p.key)).toEqual(['description']);
  });

  it('splits frontmatter from the body', () => {
    expect(splitFrontmatter('---\na: 1\n---\nbody')).toMatchObject({ yaml: 'a: 1', body: 'body', yamlStartLine: 2 });
    expect(splitFrontmatter('no fence').yaml).toBeUndefined();
    expect(firstParagraph('\n\n# H\n\nfirst  one\n\nsecond')).toBe('first one');
  });
});

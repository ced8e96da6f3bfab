import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { claudeAgent } from '../../src/agents/claude.js';
import { claudeDialect, startAnthropicServer } from '../fixtures/model-servers/anthropic.js';
import { BROKEN_TASK, GOOD_TASK, initDraftScript } from '../fixtures/model-servers/init-draft-script.js';
import type { ModelServer } from '../fixtures/model-servers/server.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/trials.js';

const KEY = 'sk-ant-init-test-0123456789';
const SKILL_MARKER = 'Count lines with wc -l and never by hand';

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('skill-eval init with an agent (real Claude Code against a scripted Anthropic server)', () => {
  let server: ModelServer | undefined;

  beforeAll(async () => {
    await claudeAgent.install!({ log: () => undefined });
  });

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('drafts two tasks: the sound one is kept, the one whose oracle fails is rejected with the reason', async () => {
    server = await startAnthropicServer(initDraftScript(claudeDialect));
    const root = await tempDir('init-draft');
    const skillDir = join(root, 'line-counter');
    await mkdir(join(skillDir, 'references'), { recursive: true });
    await writeFile(
      join(skillDir, 'SKILL.md'),
      `---\nname: line-counter\ndescription: Counts lines of text files the house way. Use when asked how many lines a file has.\n---\n# Line counter\n\n${SKILL_MARKER}.\n`,
    );
    await writeFile(join(skillDir, 'references', 'notes.md'), 'Trailing newlines count.\n');
    // The key comes from the skill's .env (the shell has none): init reads it, the agent is auto-detected.
    await writeFile(join(skillDir, '.env'), `# test key\nANTHROPIC_API_KEY="${KEY}"\n`);
    const results = join(root, 'results');

    const run = await runCli(['init', skillDir, '--count', '2', '--results-dir', results], {
      cwd: root,
      env: {
        ANTHROPIC_API_KEY: undefined,
        GEMINI_API_KEY: undefined,
        OPENAI_API_KEY: undefined,
        ANTHROPIC_BASE_URL: server.url,
      },
      timeoutMs: 240_000,
    });
    expect(run.exitCode, run.stderr + run.stdout).toBe(0);
    expect(run.stderr).toMatch(/claude is drafting 2 task\(s\) for line-counter/);
    expect(run.stdout).toMatch(/kept\s+line-counter\/evals\/count-lines/);
    expect(run.stdout).toMatch(/rejected\s+line-counter\/evals\/\.rejected\/broken-oracle/);
    expect(run.stdout).toMatch(/tasks check: oracle did not pass every trial/);
    expect(run.stdout).toMatch(/claude drafted 2 task\(s\): 1 kept in line-counter\/evals, 1 rejected/);

    // The agent was asked for 2 tasks, saw the skill (its SKILL.md read from the workspace), wrote both.
    const main = server.requests.filter((r) => r.main);
    expect(JSON.stringify(main[0]?.body)).toContain('create 2 evaluation tasks for it in ./drafts/');
    expect(JSON.stringify(main.at(-1)?.body)).toContain(SKILL_MARKER);
    const sent = main.map((r) => r.reply).filter((r) => r?.kind === 'tool');
    expect(sent.map((r) => (r?.kind === 'tool' ? r.args.command : undefined))).toEqual([
      'cat skill/SKILL.md',
      GOOD_TASK,
      BROKEN_TASK,
    ]);
    expect(main[0]?.headers['x-api-key']).toBe(KEY);

    const evals = join(skillDir, 'evals');
    expect(await readFile(join(evals, 'count-lines', 'instruction.md'), 'utf8')).toMatch(/count\.txt/);
    expect((await readdir(evals)).sort()).toEqual(['.rejected', 'count-lines']);
    const rejected = await readFile(join(evals, '.rejected', 'broken-oracle', 'REJECTED.md'), 'utf8');
    expect(rejected).toMatch(/- tasks check: oracle did not pass every trial: the solution or the verifier is broken/);
    expect(rejected).toMatch(/oracle trial failed, reward 0/);

    // The kept task passes `tasks validate` as written; the rejected one is hidden from it.
    const validate = await runCli(['tasks', 'validate', evals], { cwd: root });
    expect(validate.exitCode, validate.stdout).toBe(0);
    expect(validate.stdout).toMatch(/1 task: 1 ok, 0 with errors/);

    // The key went to the model server only: not into the workspace copy of the skill, the session or the tasks.
    for (const file of [...(await filesUnder(results)), ...(await filesUnder(evals))])
      expect((await readFile(file)).toString('latin1'), file).not.toContain(KEY);
    expect(await filesUnder(results)).not.toContainEqual(expect.stringMatching(/environment\/skill\/\.env$/));
  });
});

import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/trials.js';

interface Row {
  name: string;
  package?: string;
  version?: string;
  installed: boolean;
  cachePath?: string;
  missingEnv: string[];
  defaultModel?: string;
  skillDirs: string[];
}

describe('skill-eval agents', () => {
  it('lists every agent with its pinned package, cache state and key state (--json)', async () => {
    const cache = await tempDir('agent-cache');
    const run = await runCli(['agents', '--json'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, SKILL_EVAL_CACHE_DIR: cache, ANTHROPIC_API_KEY: 'sk-set' },
    });
    expect(run.exitCode, run.stderr).toBe(0);
    const rows = JSON.parse(run.stdout) as Row[];
    expect(rows.map((r) => r.name)).toEqual(
      expect.arrayContaining(['oracle', 'nop', 'claude', 'codex', 'gemini', 'opencode']),
    );
    const claude = rows.find((r) => r.name === 'claude')!;
    expect(claude).toMatchObject({
      package: '@anthropic-ai/claude-code',
      version: '2.1.197',
      installed: false,
      missingEnv: [],
      defaultModel: 'claude-sonnet-4-5',
      skillDirs: ['.claude/skills'],
    });
    expect(claude.cachePath).toBe(`${cache}/agents/claude@2.1.197`);
    expect(rows.find((r) => r.name === 'codex')).toMatchObject({
      package: '@openai/codex',
      installed: false,
      missingEnv: ['OPENAI_API_KEY'],
    });
    expect(rows.find((r) => r.name === 'gemini')).toMatchObject({
      package: '@google/gemini-cli',
      missingEnv: ['GEMINI_API_KEY'],
    });
    expect(rows.find((r) => r.name === 'opencode')).toMatchObject({
      package: 'opencode-ai',
      skillDirs: ['.agents/skills'],
    });
    expect(rows.find((r) => r.name === 'oracle')).toMatchObject({ installed: true, missingEnv: [] });
    // The agents you bring: each names the flag that gives it its command line; acp needs its bridge installed.
    expect(rows.find((r) => r.name === 'command')).toMatchObject({
      flag: '--command',
      installed: true,
      missingEnv: [],
    });
    expect(rows.find((r) => r.name === 'acp')).toMatchObject({
      flag: '--acp-command',
      package: '@agentclientprotocol/sdk',
      version: '2.4.0',
      installed: false,
      cachePath: expect.stringMatching(new RegExp(`^${cache}/agents/acp-bridge@2\\.4\\.0-[0-9a-f]{12}$`)),
    });
  });

  it('prints a table that says what is missing', async () => {
    const cache = await tempDir('agent-cache');
    const run = await runCli(['agents'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, SKILL_EVAL_CACHE_DIR: cache, GEMINI_API_KEY: 'g-set' },
    });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /^claude\s+@anthropic-ai\/claude-code@2\.1\.197\s+no\s+ANTHROPIC_API_KEY missing\s+claude-sonnet-4-5$/m,
    );
    expect(run.stdout).toMatch(/^gemini\s+@google\/gemini-cli@0\.61\.0\s+no\s+GEMINI_API_KEY set/m);
    expect(run.stdout).toMatch(/skill-eval agents install claude codex gemini opencode/);
  });

  it('refuses to install built-in or unknown agents, with a usage error', async () => {
    const builtIn = await runCli(['agents', 'install', 'oracle']);
    expect(builtIn.exitCode).toBe(2);
    expect(builtIn.stderr).toMatch(/agent "oracle" is built in: nothing to install/);
    const unknown = await runCli(['agents', 'install', 'cursor']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/unknown agent "cursor"/);
    expect(unknown.stderr).toMatch(/installable agents: claude, codex, gemini, opencode/);
  });
});

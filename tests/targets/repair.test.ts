import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setup } from '../../src/index.js';
import { diffTrees, snapshotTree } from '../../src/targets/repair.js';
import { verifySuite } from '../../src/targets/suite.js';
import { type ScriptedServer, startScriptedChatServer } from '../fixtures/model-servers/openai-chat-scripted.js';
import { respondToFixtures } from '../fixtures/targets/scripted-responder.js';
import { runCli } from '../helpers/cli.js';
import { scriptedRepairAgent } from './helpers/scripted-agent.js';

const CODE_BENCH = resolve(import.meta.dirname, '../fixtures/targets/code-bench');

async function benchCopy(): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'skill-eval-repair-')), 'code-bench');
  await cp(CODE_BENCH, dir, { recursive: true });
  return dir;
}

describe('contract repair with an agent', () => {
  let model: ScriptedServer;
  beforeAll(async () => {
    model = await startScriptedChatServer({ apiKey: 'sk-repair-key-1234', respond: respondToFixtures });
  });
  afterAll(async () => {
    await model.close();
  });
  const base = async () => ({
    llm: 'scripted-model',
    mode: 'smoke' as const,
    requireSamples: true,
    baseUrl: model.baseUrl,
    apiKey: 'sk-repair-key-1234',
    artifactsDir: await mkdtemp(join(tmpdir(), 'skill-eval-artifacts-')),
  });

  it('fixes a broken contract in one iteration; writes outside the contract dir are undone; provenance recorded; unreviewed until accepted', async () => {
    const dir = await benchCopy();
    const contractFile = join(dir, '.skill-eval', 'contract.yaml');
    const good = await readFile(contractFile, 'utf8');
    await (await import('node:fs/promises')).writeFile(
      contractFile,
      good.replace('bench/generate.mjs', 'bench/generat.mjs'),
    );
    const readme = await readFile(join(dir, 'README.md'), 'utf8');
    const agent = scriptedRepairAgent({
      fix: (text) => text.replace('bench/generat.mjs', 'bench/generate.mjs'),
      strayWrite: 'README.md',
    });

    const summary = await verifySuite({ ...(await base()), targets: [dir], repairIters: 3, repairAgent: agent });
    const result = summary.results[0]!;
    expect(agent.calls).toHaveLength(1);
    expect(agent.calls[0]!.instruction).toMatch(/Failed stage: rollout\nFailure: command_failed \(missing_file\)/);
    expect(agent.calls[0]!.instruction).toContain('Cannot find module');
    expect(agent.calls[0]!.instruction).toMatch(/\[eval\] README\.md:24 {2}node bench\/score\.mjs/);
    expect(result).toMatchObject({
      ok: true,
      contract_reviewed: false,
      metrics: { score: 2 / 3 },
      repair: { iterations: 1, fixed: true },
    });
    expect(summary.ok).toBe(true);
    const attempt = (result.repair!.attempts as { changes: unknown[]; violations: unknown[] }[])[0]!;
    expect(attempt.changes).toEqual([
      expect.objectContaining({
        path: 'contract.yaml',
        action: 'modified',
        by: 'scripted-repair',
        iteration: 1,
        reason: 'rollout: command_failed',
      }),
    ]);
    expect(attempt.violations).toEqual([
      expect.objectContaining({ path: join(dir, 'README.md'), action: 'modified', restored: true }),
    ]);
    expect(await readFile(join(dir, 'README.md'), 'utf8')).toBe(readme);
    expect(await readFile(contractFile, 'utf8')).toBe(good);
    const provenance = JSON.parse(await readFile(join(dir, '.skill-eval', 'provenance.json'), 'utf8'));
    expect(provenance).toMatchObject({
      reviewed: false,
      changes: [{ path: 'contract.yaml' }],
      violations: [{ restored: true }],
    });

    const accepted = await runCli(['target', 'accept', dir]);
    expect(accepted.exitCode).toBe(0);
    expect(accepted.stdout).toMatch(/accepted \(sha256 [0-9a-f]{12}…, 1 recorded agent changes\)/);
    const env = await setup({ target: dir, artifactsDir: (await base()).artifactsDir });
    expect(env.reviewed).toBe(true);
    await env.teardown();
  });

  it('drafts a missing contract with --derive', async () => {
    const dir = await benchCopy();
    const draft = await readFile(join(dir, '.skill-eval', 'contract.yaml'), 'utf8');
    await rm(join(dir, '.skill-eval', 'contract.yaml'));
    const without = await verifySuite({
      ...(await base()),
      targets: [dir],
      repairIters: 2,
      repairAgent: scriptedRepairAgent({ draft }),
    });
    expect(without.results[0]!.repair).toMatchObject({
      iterations: 0,
      stopped_because: expect.stringMatching(/--derive/),
    });
    const agent = scriptedRepairAgent({ draft });
    const summary = await verifySuite({
      ...(await base()),
      targets: [dir],
      repairIters: 2,
      repairAgent: agent,
      derive: true,
    });
    expect(summary.results[0]).toMatchObject({
      ok: true,
      repair: { iterations: 1, fixed: true },
      contract_reviewed: false,
    });
    expect(agent.calls[0]!.instruction).toMatch(/^Write a skill-eval contract/);
  });

  it('stops at once on a non-repairable failure (authentication)', async () => {
    const dir = await benchCopy();
    const agent = scriptedRepairAgent({ fix: (t) => t });
    const summary = await verifySuite({
      ...(await base()),
      apiKey: 'sk-wrong-key-0000',
      targets: [dir],
      repairIters: 3,
      repairAgent: agent,
    });
    expect(summary.results[0]).toMatchObject({
      ok: false,
      failed_stage: 'rollout',
      failure_class: 'auth',
      repair: { iterations: 0, stopped_because: 'not repairable: auth' },
    });
    expect(agent.calls).toHaveLength(0);
  });

  it('tree snapshots see created, modified and deleted files', async () => {
    const dir = await benchCopy();
    const before = await snapshotTree(dir);
    const fs = await import('node:fs/promises');
    await fs.writeFile(join(dir, 'new.txt'), 'x');
    await fs.writeFile(join(dir, 'Makefile'), 'changed');
    await fs.rm(join(dir, 'package.json'));
    expect(diffTrees(before, await snapshotTree(dir)).map((c) => [c.path, c.action])).toEqual([
      ['Makefile', 'modified'],
      ['new.txt', 'created'],
      ['package.json', 'deleted'],
    ]);
  });
});

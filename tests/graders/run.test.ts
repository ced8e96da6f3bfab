import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalProvider } from '../../src/environments/local.js';
import type { EnvironmentProvider } from '../../src/environments/types.js';
import { trialResultSchema } from '../../src/results/schema.js';
import { loadTaskOrThrow } from '../../src/task/load.js';
import { startAnthropicServer } from '../fixtures/model-servers/anthropic.js';
import type { ConversationView, ModelServer, Reply } from '../fixtures/model-servers/server.js';
import { scanForSecrets } from '../helpers/secret-scan.js';
import { FIXTURES, loadFixtureTask, runOne, tempDir } from '../helpers/trials.js';

const SECRET = 'sk-ant-judge-9f8e7d6c5b4a39281706';

/** The judge's answers, one per request, set by each test. */
let answer: (view: ConversationView) => Reply = () => ({ kind: 'text', text: '{"score": 0.8, "reasoning": "ok"}' });
let server: ModelServer;
let provider: EnvironmentProvider;

beforeAll(async () => {
  server = await startAnthropicServer((view) => answer(view));
  provider = createLocalProvider({ killGraceMs: 500 });
});
afterAll(async () => server.close());

const judge = () => ({ env: { ANTHROPIC_API_KEY: SECRET, ANTHROPIC_BASE_URL: server.url } });

/** A copy of the graders fixture with one file replaced. */
async function variant(file: string, content: string) {
  const dir = join(await tempDir('graders-task'), 'graders');
  await cp(join(FIXTURES, 'lifecycle', 'graders'), dir, { recursive: true });
  await writeFile(join(dir, file), content);
  return loadTaskOrThrow(dir);
}

describe('graders in a trial (local provider, scripted judge)', () => {
  it('records every grader with weight and score and combines them by weight', async () => {
    const seen: string[] = [];
    answer = (view) => {
      seen.push(view.text);
      return { kind: 'text', text: 'Here it is:\n```json\n{"score": 0.8, "reasoning": "one command"}\n```' };
    };
    const before = server.requests.length;
    const { result, trialDir } = await runOne({ provider, task: await loadFixtureTask('graders'), judge: judge() });
    expect(trialResultSchema.safeParse(result).success).toBe(true);
    expect(result.status).toBe('failed');
    expect(result.graders?.map(({ name, type, weight, score }) => ({ name, type, weight, score }))).toEqual([
      { name: 'tests', type: 'verifier', weight: 0.5, score: 1 },
      { name: 'checks', type: 'deterministic', weight: 0.3, score: 0.5 },
      { name: 'approach', type: 'llm_rubric', weight: 0.2, score: 0.8 },
    ]);
    expect(result.reward).toBeCloseTo(0.5 * 1 + 0.3 * 0.5 + 0.2 * 0.8, 10);
    expect(result.graders?.[1]?.checks).toEqual([
      { name: 'exists', passed: true },
      { name: 'shouts', passed: false, message: 'not HELLO' },
    ]);
    expect(result.graders?.[2]).toMatchObject({ details: 'one command', model: 'anthropic/claude-judge-test' });
    expect(result.graders?.[2]?.warning).toBeUndefined();
    // The judge saw the instruction, the rubric, the transcript, the workdir's changes and the other graders.
    expect(server.requests.length - before).toBe(1);
    expect(server.requests.at(-1)?.headers['x-api-key']).toBe(SECRET);
    const prompt = seen[0] ?? '';
    expect(prompt).toContain('containing the word hello');
    expect(prompt).toContain('with a single command');
    expect(prompt).toContain('solve.sh');
    expect(prompt).toMatch(/Added \(1\): hello\.txt/);
    expect(prompt).toContain('checks (deterministic, weight 0.3): score 0.5');
    const record = JSON.parse(await readFile(join(trialDir, 'graders', 'approach', 'judge.json'), 'utf8'));
    expect(record).toMatchObject({ provider: 'anthropic', model: 'claude-judge-test', answer: { score: 0.8 } });
    expect(record.attempts).toHaveLength(1);
    expect(await scanForSecrets(trialDir, [SECRET])).toEqual([]);
    expect(await readFile(join(trialDir, 'graders', 'checks', 'stdout.txt'), 'utf8')).toContain('checking hello.txt');
    const diff = JSON.parse(await readFile(join(trialDir, 'graders', 'workspace-diff.json'), 'utf8'));
    expect(diff).toMatchObject({
      added: ['hello.txt'],
      changed: [],
      removed: [],
      excerpts: [{ path: 'hello.txt', text: 'hello\n' }],
    });
  });

  it('turns a judge failure into a verifier error naming the grader, never 0', async () => {
    answer = () => {
      throw new Error('overloaded');
    };
    const { result, trialDir } = await runOne({ provider, task: await loadFixtureTask('graders'), judge: judge() });
    expect(result.status).toBe('verifier_error');
    expect(result.reward).toBeUndefined();
    expect(result.error?.message).toMatch(
      /grader "approach" \(llm_rubric\): judge anthropic\/claude-judge-test: .*HTTP 500/,
    );
    expect(result.graders?.[2]?.score).toBeUndefined();
    expect(result.graders?.[0]?.score).toBe(1);
    const record = JSON.parse(await readFile(join(trialDir, 'graders', 'approach', 'judge.json'), 'utf8'));
    expect(record.attempts[0].exchange.status).toBe(500);
    expect(await scanForSecrets(trialDir, [SECRET])).toEqual([]);
  });

  it('asks again once after an invalid answer, then gives up as a verifier error', async () => {
    const before = server.requests.length;
    answer = () => ({ kind: 'text', text: '{"score": 7, "reasoning": "way too good"}' });
    const { result } = await runOne({ provider, task: await loadFixtureTask('graders'), judge: judge() });
    expect(server.requests.length - before).toBe(2);
    expect(result.status).toBe('verifier_error');
    expect(result.error?.message).toMatch(/invalid answer after 2 tries.*score/);
  });

  it('turns bad output of a deterministic grader into a verifier error saying what it found', async () => {
    answer = () => ({ kind: 'text', text: '{"score": 1, "reasoning": "fine"}' });
    const task = await variant('tests/graders/checks.sh', 'echo "score: high"\n');
    const { result } = await runOne({ provider, task, judge: judge() });
    expect(result.status).toBe('verifier_error');
    expect(result.error?.message).toContain('grader "checks" (deterministic): tests/graders/checks.sh (exit code 0)');
    expect(result.error?.message).toContain('found "score: high"');
  });

  it('runs a task without a verifier grader and without tests/test.sh', async () => {
    const dir = join(await tempDir('graders-no-verifier'), 'graders');
    await cp(join(FIXTURES, 'lifecycle', 'graders'), dir, { recursive: true });
    const toml = await readFile(join(dir, 'task.toml'), 'utf8');
    await writeFile(
      join(dir, 'task.toml'),
      toml.replace(/\[\[graders\]\]\ntype = "verifier"\nname = "tests"\nweight = 0.5\n\n/, ''),
    );
    await rm(join(dir, 'tests', 'test.sh'));
    answer = () => ({ kind: 'text', text: '{"score": 1, "reasoning": "fine"}' });
    const { result } = await runOne({ provider, task: await loadTaskOrThrow(dir), judge: judge() });
    expect(result.graders?.map((g) => g.name)).toEqual(['checks', 'approach']);
    expect(result.reward).toBeCloseTo((0.3 * 0.5 + 0.2 * 1) / 0.5, 10);
    expect(result.verifier).toBeUndefined();
    expect(result.status).toBe('failed');
  });

  it('records the implicit verifier as the only grader of a task without [[graders]]', async () => {
    const { result } = await runOne({ provider, task: await loadFixtureTask('reward-json') });
    expect(result.graders).toEqual([
      { name: 'tests', type: 'verifier', weight: 1, score: 0.5, duration_ms: expect.any(Number) },
    ]);
    expect(result.reward_source).toBe('/logs/verifier/reward.json');
    expect(result.rewards).toEqual({ reward: 0.5, accuracy: 0.75 });
  });
});

import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { evalYamlJobDefaults } from '../../src/evalyaml/defaults.js';
import { applyEvalFlags } from '../../src/jobs/eval-flags.js';
import { trivialJobOptions } from '../jobs/helpers.js';
import { tempDir, writeTree } from '../task/helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function skill(env?: string): Promise<string> {
  const dir = await tempDir();
  cleanups.push(dir.cleanup);
  await writeTree(dir.path, {
    'my-skill/SKILL.md': '---\nname: my-skill\ndescription: Demo.\n---\n',
    'my-skill/eval.yaml':
      'defaults: {agent: oracle, provider: local, trials: 2, threshold: 0.6, grader_model: judge-1}\ntasks:\n  - {name: a, instruction: hi, graders: [{type: deterministic, run: x}]}\n',
    ...(env === undefined ? {} : { 'my-skill/.env': env }),
  });
  return dir.path;
}

describe('evalYamlJobDefaults', () => {
  it('gives the job eval.yaml’s defaults: agent, provider, trials, threshold as --fail-under, grader_model', async () => {
    const root = await skill();
    expect(await evalYamlJobDefaults(['some-task', 'my-skill'], root)).toEqual({
      agent: 'oracle',
      provider: 'local',
      trials: 2,
      failUnder: 0.6,
      graderModel: 'judge-1',
    });
    expect(await evalYamlJobDefaults(['some-task'], root)).toBeUndefined();
  });
});

describe('applyEvalFlags with an eval.yaml', () => {
  const raw = (root: string) => ({
    ...trivialJobOptions(join(root, 'results'), { tasks: ['my-skill/eval.yaml'] }),
    agent: 'gemini',
    provider: 'docker',
    trials: 5,
  });

  it('uses its defaults for the flags not typed, and the typed ones as given', async () => {
    const root = await skill();
    const none = await applyEvalFlags(raw(root), root, { given: () => false, shellEnv: {} });
    expect(none.options).toMatchObject({ agent: 'oracle', provider: 'local', trials: 2 });
    const typed = await applyEvalFlags({ ...raw(root), agent: 'nop', trials: 1 }, root, {
      given: (flag) => flag === 'agent' || flag === 'trials',
      shellEnv: {},
    });
    expect(typed.options).toMatchObject({ agent: 'nop', provider: 'local', trials: 1 });
    const preset = await applyEvalFlags({ ...raw(root), smoke: true }, root, { given: () => false, shellEnv: {} });
    expect(preset.options.trials).toBe(5);
  });

  it('reads the .env next to eval.yaml; as in skillgrade, the agent of its one key comes before defaults.agent', async () => {
    const root = await skill('GEMINI_API_KEY=from-skill-env\n');
    const { options, hostEnv, notes } = await applyEvalFlags(raw(root), root, { given: () => false, shellEnv: {} });
    expect(hostEnv.GEMINI_API_KEY).toBe('from-skill-env');
    expect(options.agent).toBe('gemini');
    expect(notes).toContain('read my-skill/.env');
  });
});

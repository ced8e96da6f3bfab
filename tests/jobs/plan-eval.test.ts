import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import type { EvalNotice } from '../../src/jobs/eval-tasks.js';
import { planEval } from '../../src/jobs/plan-eval.js';
import { FIXTURES, tempDir } from '../helpers/trials.js';
import { trivialJobOptions } from './helpers.js';

const GRADERS_TASK = join(FIXTURES, 'lifecycle', 'graders');

describe('planEval: judges of llm_rubric graders', () => {
  it('records --grader-model in job.json, hands the judge its host variables and redacts its key', async () => {
    const options = trivialJobOptions(await tempDir('plan-judge'), { tasks: [GRADERS_TASK], graderModel: 'claude-x' });
    const notices: EvalNotice[] = [];
    const plan = await planEval(options, process.cwd(), {
      hostEnv: { ANTHROPIC_API_KEY: 'sk-ant-plan-0123456789', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9', PATH: '/bin' },
      onNotice: (notice) => notices.push(notice),
    });
    expect(plan.config.grader_model).toBe('claude-x');
    expect(plan.judge).toEqual({
      model: 'claude-x',
      env: { ANTHROPIC_API_KEY: 'sk-ant-plan-0123456789', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9' },
    });
    expect(plan.redactor.redact('key sk-ant-plan-0123456789')).not.toContain('sk-ant-plan');
    expect(notices.filter((n) => n.level === 'warning')).toEqual([]);
  });

  it('fails with one usage error before any trial when the judge has no key', async () => {
    const options = trivialJobOptions(await tempDir('plan-nokey'), { tasks: [GRADERS_TASK] });
    const planned = planEval(options, process.cwd(), { hostEnv: { PATH: '/bin' } });
    await expect(planned).rejects.toBeInstanceOf(UsageError);
    await expect(planned).rejects.toThrow(
      /task graders: grader "approach" .* needs ANTHROPIC_API_KEY, which is not set/,
    );
  });

  it('warns at planning when the judge is of the agent model family', async () => {
    const options = trivialJobOptions(await tempDir('plan-family'), { tasks: [GRADERS_TASK], agent: 'claude' });
    const notices: EvalNotice[] = [];
    await planEval(options, process.cwd(), {
      hostEnv: { ANTHROPIC_API_KEY: 'sk-ant-plan-0123456789', PATH: '/bin' },
      onNotice: (notice) => notices.push(notice),
    });
    expect(notices).toContainEqual({
      level: 'warning',
      message: expect.stringMatching(
        /grader "approach": the judge anthropic\/claude-judge-test is of the same model family as the agent claude/,
      ),
    });
  });
});

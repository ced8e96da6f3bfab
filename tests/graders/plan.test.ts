import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { planJudges } from '../../src/graders/plan.js';
import { loadFixtureTask } from '../helpers/trials.js';

describe('planJudges', () => {
  it('stops before any trial when an llm_rubric grader has no usable judge key', async () => {
    const task = await loadFixtureTask('graders');
    expect(() => planJudges([task], [{ name: 'oracle' }], undefined, {})).toThrow(UsageError);
    expect(() => planJudges([task], [{ name: 'oracle' }], undefined, {})).toThrow(
      /task graders: grader "approach" judges with anthropic\/claude-judge-test, which needs ANTHROPIC_API_KEY/,
    );
  });

  it('keeps only the judge variables of the host, redacts the key, and warns about a same-family judge', async () => {
    const task = await loadFixtureTask('graders');
    const plan = planJudges([task], [{ name: 'claude' }, { name: 'gemini' }], 'x', {
      ANTHROPIC_API_KEY: 'sk-a',
      HOME: '/root',
      OTHER_TOKEN: 't',
    });
    expect(plan.settings).toEqual({ model: 'x', env: { ANTHROPIC_API_KEY: 'sk-a' } });
    expect(plan.secrets).toEqual(['sk-a']);
    expect(plan.warnings).toEqual([
      expect.stringMatching(/^task graders, grader "approach": .*same model family as the agent claude/),
    ]);
  });
});

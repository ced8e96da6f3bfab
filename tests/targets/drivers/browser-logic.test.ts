import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseContract, targetFileProblems } from '../../../src/targets/contract.js';
import { ACTION_REFERENCE, parseActions, SYSTEM_PROMPT } from '../../../src/targets/drivers/browser/actions.js';
import { formatElements } from '../../../src/targets/drivers/browser/observe.js';
import {
  breakdownByGroup,
  isSuccess,
  readReward,
  rewardOutOfRange,
  summariseEpisodes,
  withSeed,
} from '../../../src/targets/drivers/browser/reward.js';
import { evaluationFailure } from '../../../src/targets/env/evaluate.js';
import { checkSamples } from '../../../src/targets/samples.js';

/** The browser driver's pure logic (issue #22): the action schema, rewards, ranges, turns, page files. */

describe('browser actions', () => {
  it('reads every action kind, by ref or selector, fenced or bare', () => {
    const reply = JSON.stringify({
      actions: [
        { type: 'click', ref: 2 },
        { type: 'type', selector: '#name', text: 'Ada' },
        { type: 'key', key: 'Enter' },
        { type: 'select', ref: 3, label: 'Mango' },
        { type: 'select', ref: 3, value: 'f0' },
        { type: 'hover', ref: 1 },
        { type: 'scroll', dy: 200 },
        { type: 'drag', ref: 4, to_ref: 5 },
        { type: 'click_at', x: 10, y: 20 },
        { type: 'wait', ms: 100 },
      ],
    });
    expect(parseActions(reply)).toEqual({ actions: JSON.parse(reply).actions, invalid: [] });
    expect(parseActions('Sure:\n```json\n[{"type": "key", "key": "Enter"}]\n```')?.actions).toEqual([
      { type: 'key', key: 'Enter' },
    ]);
    expect(parseActions('no json here')).toBeUndefined();
  });

  it('turns what the schema refuses into messages for the model', () => {
    const parsed = parseActions(
      '{"actions": [{"type": "click"}, {"type": "dance"}, {"type": "select", "ref": 1, "label": "a", "value": "b"}, {"type": "wait", "ms": 99999}, {"type": "click", "ref": 1}]}',
    );
    expect(parsed?.actions).toEqual([{ type: 'click', ref: 1 }]);
    expect(parsed?.invalid).toHaveLength(4);
    expect(parsed?.invalid[0]).toMatch(/invalid action \{"type":"click"\}: give exactly one of ref or selector/);
    expect(parsed?.invalid[1]).toMatch(/"dance"/);
    expect(parsed?.invalid[2]).toMatch(/exactly one of label or value/);
  });

  it('documents every action in the system prompt', () => {
    for (const line of ACTION_REFERENCE) expect(SYSTEM_PROMPT).toContain(line);
    expect(SYSTEM_PROMPT).toMatch(/"selector": "#id"/);
  });

  it('writes an element per line and a select option per indented line', () => {
    expect(
      formatElements([
        {
          ref: 3,
          role: 'combobox',
          name: 'Fruit',
          details: ['value="f1"'],
          options: [
            { label: 'Mango', value: 'f0', selected: false },
            { label: 'Cherry', value: 'f1', selected: true },
          ],
        },
        { ref: 4, role: 'checkbox', name: 'red', details: ['checked=true'], options: [] },
      ]),
    ).toEqual([
      '[3] combobox "Fruit" value="f1"',
      '    option "Mango" value="f0"',
      '    option "Cherry" value="f1" selected',
      '[4] checkbox "red" checked=true',
    ]);
  });
});

describe('browser rewards', () => {
  it('keeps a reward as given and refuses what is no number', () => {
    expect(readReward(-0.33)).toBe(-0.33);
    expect(readReward(true)).toBe(1);
    expect(readReward('0.5')).toBe(0.5);
    expect(() => readReward(undefined)).toThrow(/gave undefined, not a number/);
    expect(() => readReward('soon')).toThrow(/not a number/);
  });

  it('succeeds by expression, else by reward above the threshold (default 0)', () => {
    expect(isSuccess(0.98, undefined, 0, false)).toBe(true);
    expect(isSuccess(0, undefined, 0, false)).toBe(false);
    expect(isSuccess(-1, undefined, 0, false)).toBe(false);
    expect(isSuccess(0.98, undefined, 0.99, false)).toBe(false);
    expect(isSuccess(0.2, false, 0, true)).toBe(false);
    expect(isSuccess(undefined, 1, 0, true)).toBe(true);
  });

  it('puts the seed in pages and expressions', () => {
    expect(withSeed('tasks/a.html?seed={seed}', 7)).toBe('tasks/a.html?seed=7');
  });

  it('names rewards outside scoring.range', () => {
    expect(rewardOutOfRange([{ id: 'a', seed: 0, reward: -0.33 }], [0, 1])).toMatch(/-0.33 \(episode a, seed 0\)/);
    expect(rewardOutOfRange([{ reward: -1 }, { reward: 1 }, { reward: null }], [-1, 1])).toBeUndefined();
  });

  it('summarises per group; an episode without a reward is a failure at min(0, low)', () => {
    const outcomes = [
      { group: 'a', reward: 0.9, success: true },
      { group: 'a', reward: -1, success: false },
      { group: 'b', reward: null, success: false, error: 'expression_error' },
    ];
    expect(summariseEpisodes(outcomes, -1)).toEqual({
      episodes: 3,
      successes: 1,
      success_rate: 1 / 3,
      mean_reward: (0.9 - 1 - 1) / 3,
      errors: 1,
    });
    expect(breakdownByGroup(outcomes, 0)).toMatchObject({
      a: { episodes: 2, success_rate: 0.5 },
      b: { episodes: 1, mean_reward: 0, errors: 1 },
    });
  });

  it('refuses a score outside scoring.range, whichever driver gave it', () => {
    const evaluation = { score: -0.33, metrics: {}, counts: { samples: 1 }, scoreSource: 'driver:qa', notes: [] };
    expect(evaluationFailure(evaluation, [0, 1])).toMatchObject({ code: 'score_out_of_range' });
    expect(evaluationFailure(evaluation, [-1, 1])).toBeUndefined();
  });
});

describe('multi-turn samples', () => {
  const read = (replies: string[], completion = replies.join('\n')) => ({
    samples: [{ id: 'a', prompt: 'Task: x', completion, replies }],
    invalidLines: [],
    missing: false,
  });
  it('are checked turn by turn against what the model answered', () => {
    const answers = ['{"actions":[{"type":"click","ref":1}]}', '{"actions":[]}'];
    expect(checkSamples(read(answers), { path: 's', modelResponses: answers })).toBeUndefined();
    expect(checkSamples(read([answers[0]!, 'invented']), { path: 's', modelResponses: answers })).toMatchObject({
      code: 'samples_not_from_model',
    });
    expect(checkSamples(read(answers, 'other'), { path: 's', modelResponses: answers })).toMatchObject({
      code: 'samples_not_from_model',
    });
  });
});

describe('target validate', () => {
  it('names every browser page the target does not hold', async () => {
    const text = `version: 1
scoring: { primary_metric: success_rate, kind: model_eval }
stages:
  rollout:
    driver: browser
    with:
      done: window.WOB.done
      reward: window.WOB.reward
      episodes:
        - page: "tasks/click-word.html?seed={seed}"
        - page: tasks/nowhere.html
  evaluate: { driver: browser }
`;
    const contract = parseContract(text, 'contract.yaml');
    const dir = resolve(import.meta.dirname, '../../fixtures/targets/web-tasks');
    const problems = await targetFileProblems(contract, dir, 'contract.yaml');
    expect(problems.map((p) => [p.key, p.found])).toEqual([
      ['stages.rollout.with.episodes[1].page', '"tasks/nowhere.html"'],
    ]);
  });
});

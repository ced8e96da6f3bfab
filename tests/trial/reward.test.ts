import { describe, expect, it } from 'vitest';
import { readReward } from '../../src/trial/reward.js';

const names = { rewardTxt: 'reward.txt', rewardJson: 'reward.json', fallbackTxt: 'fallback.txt' };
const b = (text: string): Buffer => Buffer.from(text);

describe('readReward', () => {
  it('parses a float from reward.txt, with surrounding whitespace', () => {
    expect(readReward({ rewardTxt: b(' 0.75\n'), names })).toEqual({ ok: true, reward: 0.75, source: 'reward.txt' });
    expect(readReward({ rewardTxt: b('1e0'), names })).toMatchObject({ ok: true, reward: 1 });
  });

  it('prefers reward.txt over reward.json and the fallback', () => {
    expect(readReward({ rewardTxt: b('0'), rewardJson: b('{"reward":1}'), fallbackTxt: b('1'), names })).toMatchObject({
      reward: 0,
      source: 'reward.txt',
    });
    expect(readReward({ rewardJson: b('{"reward":1}'), fallbackTxt: b('0'), names })).toMatchObject({
      reward: 1,
      source: 'reward.json',
    });
    expect(readReward({ fallbackTxt: b('1'), names })).toMatchObject({ reward: 1, source: 'fallback.txt' });
  });

  it('keeps every number of reward.json', () => {
    expect(readReward({ rewardJson: b('{"reward": 0.5, "f1": 0.25}'), names })).toEqual({
      ok: true,
      reward: 0.5,
      rewards: { reward: 0.5, f1: 0.25 },
      source: 'reward.json',
    });
  });

  it.each([
    [{ rewardTxt: b('') }, /reward\.txt: expected a number, found an empty file/],
    [{ rewardTxt: b('yes') }, /reward\.txt: expected a number, found "yes"/],
    [{ rewardTxt: b('NaN') }, /expected a number/],
    [{ rewardTxt: b('1 2') }, /expected a number/],
    [{ rewardJson: b('{') }, /reward\.json: expected JSON, found invalid JSON/],
    [{ rewardJson: b('[1]') }, /expected a flat map of numbers .* found an array/],
    [{ rewardJson: b('{"reward": "1"}') }, /found an object with non-number values/],
    [{ rewardJson: b('{"score": 1}') }, /key "reward": expected a number, found no such key \(keys: score\)/],
    [{}, /wrote no reward: expected reward\.txt or reward\.json, found neither/],
  ])('reports a missing or malformed reward as an error, never 0 (%#)', (files, message) => {
    const reading = readReward({ ...files, names });
    expect(reading.ok).toBe(false);
    if (!reading.ok) expect(reading.message).toMatch(message);
  });
});

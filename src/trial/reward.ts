import { z } from 'zod';

/** Where a reward was found, or why none was: a missing reward is a verifier error, never 0. */
export type RewardReading =
  | { ok: true; reward: number; rewards?: Record<string, number> | undefined; source: string }
  | { ok: false; message: string };

export interface RewardFiles {
  /** Contents of /logs/verifier/reward.txt, if it exists. */
  rewardTxt?: Buffer | undefined;
  /** Contents of /logs/verifier/reward.json, if it exists. */
  rewardJson?: Buffer | undefined;
  /** Contents of the skill-eval fallback `logs/verifier/reward.txt` relative to the workdir. */
  fallbackTxt?: Buffer | undefined;
  /** Names to use in messages. */
  names: { rewardTxt: string; rewardJson: string; fallbackTxt: string };
}

const rewardJsonSchema = z.record(z.string(), z.number().finite());

function parseRewardText(data: Buffer, file: string): RewardReading {
  const text = data.toString('utf8').trim();
  if (text === '') return { ok: false, message: `${file}: expected a number, found an empty file` };
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) {
    return { ok: false, message: `${file}: expected a number, found ${JSON.stringify(text.slice(0, 80))}` };
  }
  const reward = Number(text);
  if (!Number.isFinite(reward)) return { ok: false, message: `${file}: expected a finite number, found ${text}` };
  return { ok: true, reward, source: file };
}

function parseRewardJson(data: Buffer, file: string): RewardReading {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch (error) {
    return { ok: false, message: `${file}: expected JSON, found invalid JSON (${(error as Error).message})` };
  }
  const result = rewardJsonSchema.safeParse(parsed);
  if (!result.success) {
    const found = Array.isArray(parsed)
      ? 'an array'
      : typeof parsed === 'object' && parsed !== null
        ? 'an object with non-number values'
        : JSON.stringify(parsed);
    return { ok: false, message: `${file}: expected a flat map of numbers (e.g. {"reward": 1}), found ${found}` };
  }
  const rewards = result.data;
  if (rewards.reward === undefined) {
    return {
      ok: false,
      message: `${file}: key "reward": expected a number, found no such key (keys: ${Object.keys(rewards).join(', ') || 'none'})`,
    };
  }
  return { ok: true, reward: rewards.reward, rewards, source: file };
}

/** reward.txt takes precedence over reward.json; the relative skill-eval path is the last resort. */
export function readReward(files: RewardFiles): RewardReading {
  if (files.rewardTxt !== undefined) return parseRewardText(files.rewardTxt, files.names.rewardTxt);
  if (files.rewardJson !== undefined) return parseRewardJson(files.rewardJson, files.names.rewardJson);
  if (files.fallbackTxt !== undefined) return parseRewardText(files.fallbackTxt, files.names.fallbackTxt);
  return {
    ok: false,
    message: `the verifier wrote no reward: expected ${files.names.rewardTxt} or ${files.names.rewardJson}, found neither`,
  };
}

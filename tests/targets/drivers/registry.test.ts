import { describe, expect, it } from 'vitest';
import { TaskFormatError } from '../../../src/errors.js';
import { parseContract, primaryMetricsFor } from '../../../src/targets/contract.js';
import {
  driverFor,
  driverNames,
  driversRunning,
  isDriverName,
  runsStage,
} from '../../../src/targets/drivers/registry.js';

function problemsOf(text: string): string[] {
  try {
    parseContract(text, '/t/contract.yaml');
  } catch (error) {
    if (error instanceof TaskFormatError) return error.message.split('\n');
    throw error;
  }
  return [];
}

const qaContract = `
version: 1
scoring: { primary_metric: exact_match_flexible, kind: model_eval }
stages:
  rollout: { driver: qa, with: { dataset: data.jsonl } }
  evaluate: { driver: qa }
`;

describe('driver registry', () => {
  it('names every driver the contract schema accepts, and nothing else', () => {
    expect(driverNames()).toEqual(['command', 'qa', 'browser']);
    for (const name of driverNames()) expect(isDriverName(name)).toBe(true);
    expect(isDriverName('selenium')).toBe(false);
    // An inherited property of the map is not a driver.
    expect(isDriverName('toString')).toBe(false);
  });

  it('finds the driver of a stage by its driver name', () => {
    const contract = parseContract(qaContract, 'c.yaml');
    expect(driverFor(contract.stages.rollout).name).toBe('qa');
    expect(driverFor({ driver: 'command', commands: [{ run: 'true' }] }).name).toBe('command');
  });

  it('says which stages each driver runs: qa and browser only roll out and evaluate', () => {
    const command = driverFor({ driver: 'command', commands: [{ run: 'true' }] });
    expect(['setup', 'health', 'rollout', 'evaluate', 'teardown'].every((s) => runsStage(command, s as 'setup'))).toBe(
      true,
    );
    expect(driversRunning('setup')).toEqual(['command']);
    expect(driversRunning('rollout')).toEqual(['command', 'qa', 'browser']);
    expect(typeof command.run).toBe('function');
  });

  it('the contract refuses a driver in a stage it does not run, naming the drivers that do', () => {
    const lines = problemsOf(qaContract.replace('stages:\n', 'stages:\n  setup: { driver: browser }\n'));
    expect(lines).toEqual([
      '/t/contract.yaml: stages.setup.driver: the browser driver runs only in rollout and evaluate; expected command; found browser',
    ]);
  });

  it("each driver's metric names are what the contract checks the primary metric against", () => {
    expect(primaryMetricsFor(parseContract(qaContract, 'c.yaml'))).toEqual([
      'exact_match_strict',
      'exact_match_flexible',
    ]);
    const commandContract = parseContract(
      `
version: 1
scoring: { primary_metric: pass, kind: repo_tests }
stages:
  rollout: [node gen.mjs]
  evaluate: { commands: [node score.mjs], score: { file: score.json, json_path: pass } }
`,
      'c.yaml',
    );
    expect(primaryMetricsFor(commandContract)).toBeUndefined();
  });
});

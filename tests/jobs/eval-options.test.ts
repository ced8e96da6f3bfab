import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runEvaluation } from '../../src/api/run-evaluation.js';
import { UsageError } from '../../src/errors.js';
import { agentsFor, modelsFor, optionsFromJob } from '../../src/jobs/eval-options.js';
import { tempDir } from '../helpers/trials.js';
import { trivialJobOptions } from './helpers.js';

describe('--model', () => {
  it('one model for every agent, or AGENT=MODEL pairs (the others keep their default)', () => {
    expect([...modelsFor('m-1', ['claude', 'gemini'])]).toEqual([
      ['claude', 'm-1'],
      ['gemini', 'm-1'],
    ]);
    expect([...modelsFor('claude=claude-sonnet-4-5, gemini=gemini-2.5-pro', ['claude', 'gemini', 'codex'])]).toEqual([
      ['claude', 'claude-sonnet-4-5'],
      ['gemini', 'gemini-2.5-pro'],
      ['codex', undefined],
    ]);
    expect([...modelsFor(undefined, ['claude'])]).toEqual([['claude', undefined]]);
    const agents = agentsFor({ agent: 'oracle,nop', model: 'nop=m-2' });
    expect(agents.map((a) => [a.agent.name, a.model])).toEqual([
      ['oracle', undefined],
      ['nop', 'm-2'],
    ]);
  });

  it('a pair naming an agent that does not run, or a malformed pair, is a UsageError', () => {
    expect(() => modelsFor('codex=gpt-5', ['claude'])).toThrow(UsageError);
    expect(() => modelsFor('codex=gpt-5', ['claude'])).toThrow(
      '--model: codex=gpt-5 names an agent that is not run (--agent: claude)',
    );
    expect(() => modelsFor('claude=', ['claude'])).toThrow(
      '--model: expected AGENT=MODEL pairs separated by commas, found "claude="',
    );
    expect(() => modelsFor('claude=x,oops', ['claude'])).toThrow(/found "oops"/);
  });

  it('per-agent models are recorded in job.json and each result, and --resume gives them back', async () => {
    const resultsDir = await tempDir('models');
    const outcome = await runEvaluation(
      trivialJobOptions(resultsDir, { agent: 'oracle,nop', model: 'oracle=model-a', jobName: 'models' }),
    );
    const job = JSON.parse(await readFile(join(outcome.jobDir, 'job.json'), 'utf8'));
    expect(job.agents).toEqual([{ name: 'oracle', model: 'model-a' }, { name: 'nop' }]);
    expect(outcome.results.map((r) => [r.agent, r.model]).sort()).toEqual([
      ['nop', undefined],
      ['oracle', 'model-a'],
    ]);
    const resumed = await optionsFromJob(trivialJobOptions(resultsDir, { resume: 'models' }), resultsDir);
    expect(resumed).toMatchObject({ agent: 'oracle,nop', model: 'oracle=model-a' });
    expect(agentsFor(resumed).map((a) => [a.agent.name, a.model])).toEqual([
      ['oracle', 'model-a'],
      ['nop', undefined],
    ]);
  });
});

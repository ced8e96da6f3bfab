import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runEvaluation } from '../../src/api/run-evaluation.js';
import type { EnvironmentProvider, JobRequirements } from '../../src/environments/types.js';
import { UsageError } from '../../src/errors.js';
import { agentsFor, armsFor, modelsFor, optionsFromJob } from '../../src/jobs/eval-options.js';
import { planEval } from '../../src/jobs/plan-eval.js';
import { runEvalJob } from '../../src/jobs/run-eval.js';
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

/** Solves the trivial fixture task (its verifier wants solved.txt in the workdir). */
const SOLVE = 'touch solved.txt';

describe('agentsFor: agents that need a command line', () => {
  it('builds command and acp agents from their flags, each with its own command', () => {
    const agents = agentsFor({ agent: 'command,acp', command: SOLVE, acpCommand: 'my-acp-agent --stdio' });
    expect(agents.map((a) => [a.agent.name, a.agent.command])).toEqual([
      ['command', SOLVE],
      ['acp', 'my-acp-agent --stdio'],
    ]);
    expect(agentsFor({ agent: 'oracle' })[0]?.agent.command).toBeUndefined();
  });

  it.each([
    [{ agent: 'command' }, /agent "command" needs a command line: --command "…"/],
    [{ agent: 'acp' }, /agent "acp" needs a command line: --acp-command "…"/],
    [{ agent: 'oracle', command: SOLVE }, /--command is only for --agent=command, but --agent is "oracle"/],
    [{ agent: 'command', command: SOLVE, acpCommand: 'x' }, /--acp-command is only for --agent=acp/],
    [{ agent: 'command', command: '  ' }, /--command: expected a command line, found an empty string/],
  ])('%j is one clear usage error', (options, message) => {
    expect(() => agentsFor(options)).toThrow(UsageError);
    expect(() => agentsFor(options)).toThrow(message);
  });
});

describe('a command agent in a job', () => {
  it('runs, is recorded in job.json, and a resumed job runs the same command; another command is another plan', async () => {
    const results = await tempDir('eval-command-agent');
    const options = trivialJobOptions(results, { agent: 'command', command: SOLVE, jobName: 'byo' });
    const outcome = await runEvalJob(await planEval(options, results));
    expect(outcome.results.map((r) => [r.agent, r.status])).toEqual([['command', 'passed']]);
    const job = JSON.parse(await readFile(join(results, 'jobs', 'byo', 'job.json'), 'utf8'));
    expect(job.agents).toEqual([{ name: 'command', command: SOLVE }]);

    const resumed = await planEval(trivialJobOptions(results, { agent: 'oracle', resume: 'byo' }), results);
    expect(resumed.agents.map((a) => [a.agent.name, a.agent.command])).toEqual([['command', SOLVE]]);
    await expect(planEval({ ...options, command: 'touch other.txt' }, results)).rejects.toThrow(
      /agents: \["command \\"touch solved.txt\\""\] → \["command \\"touch other.txt\\""\]/,
    );
  });

  it('a secret in the command is redacted in job.json; resuming then needs the command again', async () => {
    const results = await tempDir('eval-command-secret');
    const secret = 'tok-9f8e7d6c5b4a3210';
    const command = `test "$TOKEN" = ${secret} && ${SOLVE}`;
    const options = trivialJobOptions(results, {
      agent: 'command',
      command,
      env: [`TOKEN=${secret}`],
      jobName: 'secret',
    });
    const outcome = await runEvalJob(await planEval(options, results));
    expect(outcome.results[0]?.status).toBe('passed');
    const text = await readFile(join(results, 'jobs', 'secret', 'job.json'), 'utf8');
    expect(text).not.toContain(secret);
    expect(JSON.parse(text).agents).toEqual([
      { name: 'command', command: 'test "$TOKEN" = [REDACTED] && touch solved.txt' },
    ]);

    const resume = trivialJobOptions(results, { resume: 'secret', env: [`TOKEN=${secret}`] });
    await expect(planEval(resume, results)).rejects.toThrow(/--command held a secret and was recorded redacted/);
    const again = await planEval({ ...resume, command }, results);
    expect(again.resumed).toBe(true);
    expect(again.agents[0]?.agent.command).toBe(command);
  });
});

describe('which configured agents call a model API (Docker refuses offline tasks for those)', () => {
  it('acp does, a command is not assumed to', async () => {
    const jobs: JobRequirements[] = [];
    const provider: EnvironmentProvider = {
      name: 'recording',
      checkJob: (job) => void jobs.push(job),
      preflight: async () => undefined,
      prepare: async () => {
        throw new Error('not used');
      },
      createWorkspace: async () => {
        throw new Error('not used');
      },
    };
    const results = await tempDir('eval-api-agents');
    const options = trivialJobOptions(results, {
      agent: 'command,acp',
      command: SOLVE,
      acpCommand: 'my-acp-agent',
      provider,
    });
    await planEval(options, results);
    expect(jobs.map((job) => job.apiAgents)).toEqual([['acp']]);
  });
});

describe('armsFor: --arms and --aa', () => {
  const base = { compare: false, skills: true, skill: [] };
  it('--arms names the arms; --aa adds the replica of one of them, or runs one arm twice', () => {
    expect(armsFor({ ...base, arms: ['no-skills', 'skill-as-prompt'] })).toEqual(['no-skills', 'skill-as-prompt']);
    expect(armsFor({ ...base, arms: ['no-skills', 'with-skills'], aa: 'no-skills' })).toEqual([
      'no-skills',
      'with-skills',
      'no-skills~aa',
    ]);
    expect(armsFor({ ...base, aa: 'no-skills' })).toEqual(['no-skills', 'no-skills~aa']);
    expect(armsFor({ ...base, compare: true, aa: 'with-skills' })).toEqual([
      'with-skills',
      'no-skills',
      'with-skills~aa',
    ]);
  });

  it.each([
    [{ arms: ['no-skills'], compare: true }, '--arms and --compare both choose the arms'],
    [{ arms: ['no-skills'], skills: false }, '--arms and --no-skills both choose the arms'],
    [{ arms: ['no-skills~aa'] }, "--arms: no-skills~aa is a replica's name"],
    [
      { arms: ['no-skills'], aa: 'with-skills' },
      '--aa with-skills: the job does not run with-skills (its arms: no-skills)',
    ],
    [{ aa: 'no-skills~aa' }, "--aa no-skills~aa: expected an arm to run twice, found a replica's name"],
    [{ arms: ['sometimes'] }, '--arms: unknown arm "sometimes"'],
  ])('%j is a UsageError', (options, message) => {
    expect(() => armsFor({ ...base, ...options })).toThrow(UsageError);
    expect(() => armsFor({ ...base, ...options })).toThrow(message);
  });
});

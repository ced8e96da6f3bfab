import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EnvironmentProvider, JobRequirements } from '../../src/environments/types.js';
import { TaskFormatError, UsageError } from '../../src/errors.js';
import type { EvalJobOptions } from '../../src/jobs/eval-options.js';
import type { EvalNotice } from '../../src/jobs/eval-tasks.js';
import { planEval } from '../../src/jobs/plan-eval.js';
import { runEvalJob } from '../../src/jobs/run-eval.js';
import type { Task } from '../../src/task/types.js';
import { tempDir } from '../helpers/trials.js';
import { JOB_FIXTURES, trivialJobOptions } from './helpers.js';

function evalOptions(resultsDir: string, overrides: Partial<EvalJobOptions> = {}): EvalJobOptions {
  return trivialJobOptions(resultsDir, { concurrency: 2, ...overrides });
}

/** A tasks folder with the trivial fixture and a task whose task.toml has a wrong type. */
async function mixedTasks(): Promise<string> {
  const dir = await tempDir('eval-jobs-mixed');
  await cp(join(JOB_FIXTURES, 'trivial'), join(dir, 'trivial'), { recursive: true });
  await mkdir(join(dir, 'broken', 'tests'), { recursive: true });
  await writeFile(join(dir, 'broken', 'task.toml'), 'schema_version = "1.1"\n[agent]\ntimeout_sec = "soon"\n');
  await writeFile(join(dir, 'broken', 'instruction.md'), 'x');
  await writeFile(join(dir, 'broken', 'tests', 'test.sh'), 'exit 0');
  return dir;
}

/** Records what planning asks of it; refuses tasks named in `refuse`. */
function checkingProvider(refuse: string[]): EnvironmentProvider & { asked: string[]; jobs: JobRequirements[] } {
  const asked: string[] = [];
  const jobs: JobRequirements[] = [];
  return {
    name: 'checking',
    asked,
    jobs,
    checkTask: (task: Task) => {
      asked.push(`checkTask ${task.name}`);
      return refuse.includes(task.name) ? [{ file: `${task.name}/x`, message: 'not here', severity: 'error' }] : [];
    },
    checkJob: (job) => {
      asked.push('checkJob');
      jobs.push(job);
    },
    preflight: async () => void asked.push('preflight'),
    prepare: async () => {
      throw new Error('not used');
    },
    createWorkspace: async () => {
      throw new Error('not used');
    },
  };
}

describe('planEval', () => {
  it('leaves broken tasks out with their problems, reports them, and writes nothing', async () => {
    const results = await tempDir('eval-jobs-plan');
    const notices: EvalNotice[] = [];
    const tasksDir = await mixedTasks();
    const plan = await planEval(evalOptions(results, { tasks: [tasksDir] }), results, {
      commandLine: ['eval', tasksDir],
      onNotice: (notice) => notices.push(notice),
    });
    expect(plan.tasks.map((t) => t.name)).toEqual(['trivial']);
    expect(plan.brokenTasks).toEqual([
      { dir: join(tasksDir, 'broken'), problems: [expect.objectContaining({ key: 'agent.timeout_sec' })] },
    ]);
    expect(notices).toContainEqual({ level: 'error', message: expect.stringMatching(/agent\.timeout_sec/) });
    expect(plan.config).toMatchObject({
      command_line: ['eval', tasksDir],
      agents: [{ name: 'oracle' }],
      arms: ['no-skills'],
      provider: 'local',
      trials: 1,
    });
    expect(plan.resumed).toBe(false);
    expect(existsSync(plan.jobDir)).toBe(false);
  });

  it("asks the provider about every task and the job before its preflight, and drops the tasks it can't run", async () => {
    const results = await tempDir('eval-jobs-provider');
    const provider = checkingProvider(['quick-b']);
    const plan = await planEval(
      evalOptions(results, {
        tasks: ['quick-a', 'quick-b', 'trivial'].map((name) => join(JOB_FIXTURES, name)),
        agent: 'oracle,claude',
        provider,
      }),
      results,
      { hostEnv: { ANTHROPIC_API_KEY: 'sk-ant-plan-test' } },
    );
    expect(provider.asked).toEqual([
      'checkTask quick-a',
      'checkTask quick-b',
      'checkTask trivial',
      'checkJob',
      'preflight',
    ]);
    expect(provider.jobs[0]?.apiAgents).toEqual(['claude']);
    expect(provider.jobs[0]?.tasks.map((t) => t.name)).toEqual(['quick-a', 'trivial']);
    expect(plan.brokenTasks.map((t) => t.problems)).toEqual([
      [{ file: 'quick-b/x', message: 'not here', severity: 'error' }],
    ]);
    expect(plan.config.provider).toBe('checking');
    expect(plan.env.ANTHROPIC_API_KEY).toBe('sk-ant-plan-test');
    expect(plan.redactor.redact('key sk-ant-plan-test')).not.toContain('sk-ant-plan-test');
  });

  it('refuses before any check what cannot be planned: contradicting arms, a missing key, no runnable task', async () => {
    const results = await tempDir('eval-jobs-refuse');
    const provider = checkingProvider(['trivial']);
    await expect(planEval(evalOptions(results, { compare: true, skills: false, provider }), results)).rejects.toThrow(
      UsageError,
    );
    await expect(
      planEval(evalOptions(results, { agent: 'claude', provider }), results, { hostEnv: {} }),
    ).rejects.toThrow('the claude agent needs ANTHROPIC_API_KEY, which is not set');
    expect(provider.asked).toEqual([]);
    await expect(planEval(evalOptions(results, { provider }), results)).rejects.toThrow(TaskFormatError);
  });
});

describe('runEvalJob', () => {
  it('runs the plan, writes job.json, summary and reports; the same named plan resumes and a changed one is refused', async () => {
    const results = await tempDir('eval-jobs-run');
    const options = evalOptions(results, { trials: 2, jobName: 'lib' });
    const events: string[] = [];
    const outcome = await runEvalJob(await planEval(options, results), { onEvent: (e) => events.push(e.type) });
    expect(outcome.cancelled).toBe(false);
    expect(outcome.summary.cells).toEqual([expect.objectContaining({ task: 'trivial', passed: 2, trials: 2 })]);
    expect(outcome.reportPaths).toEqual([expect.stringMatching(/trivial_.*\.json$/)]);
    expect(events.filter((type) => type === 'trial-end')).toHaveLength(2);
    const jobDir = join(results, 'jobs', 'lib');
    expect(JSON.parse(await readFile(join(jobDir, 'job.json'), 'utf8'))).toMatchObject({ job_id: 'lib', trials: 2 });
    const summary = JSON.parse(await readFile(join(jobDir, 'summary.json'), 'utf8'));
    expect(summary.reports).toHaveLength(1);

    const notices: EvalNotice[] = [];
    const again = await planEval(options, results, { onNotice: (n) => notices.push(n) });
    expect(again.resumed).toBe(true);
    expect(notices).toContainEqual({ level: 'note', message: 'resuming job lib' });
    const rerun = await runEvalJob(again);
    expect(rerun.results.map((r) => r.trial_id).sort()).toEqual(outcome.results.map((r) => r.trial_id).sort());
    await expect(planEval({ ...options, trials: 3 }, results)).rejects.toThrow('trials: 2 → 3');
  });
});

describe('eval --no-audit', () => {
  it('records the isolation and tamper audits in each trial unless turned off', async () => {
    const blocks = async (audit?: boolean): Promise<string[]> => {
      const overrides = audit === undefined ? {} : { audit };
      const plan = await planEval(evalOptions(await tempDir('eval-audit'), overrides), process.cwd());
      const outcome = await runEvalJob(plan);
      return outcome.results.flatMap((r) => [r.isolation ? 'isolation' : '', r.tamper ? 'tamper' : ''].filter(Boolean));
    };
    expect(await blocks()).toEqual(['isolation', 'tamper']);
    expect(await blocks(false)).toEqual([]);
  });
});

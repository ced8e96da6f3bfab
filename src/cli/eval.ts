import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { availableParallelism } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { getAgent } from '../agents/registry.js';
import type { Arm } from '../agents/types.js';
import { createProvider } from '../environments/registry.js';
import { EXIT_CODES, formatProblem, InfraError, type Problem, TaskFormatError, UsageError } from '../errors.js';
import {
  diffJobConfig,
  findResumableJob,
  type JobConfig,
  markReportsWritten,
  readJobConfig,
} from '../jobs/job-config.js';
import { chooseProgressMode, createProgressReporter } from '../jobs/progress.js';
import { type JobAgent, runJob } from '../jobs/run-job.js';
import { handleCancelSignals } from '../jobs/signals.js';
import { type JobSummary, summarizeResults } from '../jobs/summary.js';
import { timestampForFile, writeEvalReports } from '../results/eval-report.js';
import { checkTaskForProvider, loadTask } from '../task/load.js';
import { expandTaskSpecs } from '../task/resolve.js';
import type { Task } from '../task/types.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { collectForwardedEnv, Redactor } from '../util/secrets.js';
import { renderEvalSummary } from './eval-summary.js';
import type { RegisterCommand } from './registry.js';

export interface EvalOptions {
  tasks: string[];
  agent: string;
  model?: string | undefined;
  provider: string;
  trials: number;
  /** false with --no-skills. */
  skills: boolean;
  compare: boolean;
  resultsDir: string;
  tasksDir?: string | undefined;
  env: string[];
  concurrency: number;
  agentTimeout?: number | undefined;
  verifierTimeout?: number | undefined;
  passThreshold: number;
  failUnder?: number | undefined;
  forceBuild: boolean;
  /** Docker network mode for every trial, replacing task.toml's policy. */
  network?: string | undefined;
  jobName?: string | undefined;
  /** Resume this job (a name under <results-dir>/jobs or a path): its plan replaces tasks/agents/arms/trials. */
  resume?: string | undefined;
  /** Start a new job even when an unfinished one with the same plan exists. */
  newJob: boolean;
  maxRetries: number;
  quiet: boolean;
  json: boolean;
  /** false: write results but print no summary (for commands built on eval). */
  print?: boolean | undefined;
}

export interface EvalOutcome {
  exitCode: number;
  jobDir: string;
  summary: JobSummary;
  reportPaths: string[];
  brokenTasks: string[];
}

function positiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1)
      throw new UsageError(`${flag}: expected a positive whole number, found "${value}"`);
    return n;
  };
}

function positiveNumber(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0)
      throw new UsageError(`${flag}: expected a positive number of seconds, found "${value}"`);
    return n;
  };
}

export function parseRate(flag: string, value: string): number {
  const percent = value.trim().endsWith('%');
  const n = Number(percent ? value.trim().slice(0, -1) : value);
  const rate = percent ? n / 100 : n;
  if (!Number.isFinite(rate) || rate < 0 || rate > 1)
    throw new UsageError(`${flag}: expected a rate between 0 and 1 (or a percentage like 80%), found "${value}"`);
  return rate;
}

const KEY_HELP: Record<string, string> = {
  ANTHROPIC_API_KEY: 'https://console.anthropic.com/settings/keys',
  GEMINI_API_KEY: 'https://aistudio.google.com/apikey',
  OPENAI_API_KEY: 'https://platform.openai.com/api-keys',
};

/** `--resume JOB`: the saved plan replaces what decides the trials; everything else (concurrency, output) stays as given. */
async function optionsFromJob(options: EvalOptions, cwd: string): Promise<EvalOptions> {
  const name = options.resume!;
  const jobDir = name.includes('/') ? resolve(cwd, name) : join(resolve(cwd, options.resultsDir), 'jobs', name);
  const config = await readJobConfig(jobDir).catch((error: unknown) => {
    throw new UsageError(`--resume ${name}: ${jobDir}/job.json is not a valid job file`, { cause: error });
  });
  if (!config) throw new UsageError(`--resume ${name}: no job at ${jobDir} (expected ${join(jobDir, 'job.json')})`);
  return {
    ...options,
    tasks: config.tasks.map((t) => t.dir),
    agent: config.agents.map((a) => a.name).join(','),
    model: config.agents[0]?.model,
    compare: config.arms.length === 2,
    skills: config.arms.includes('with-skills'),
    trials: config.trials,
    provider: config.provider,
    passThreshold: config.pass_threshold,
    jobName: config.job_id,
    resultsDir: name.includes('/') ? resolve(jobDir, '..', '..') : options.resultsDir,
  };
}

/** `skill-eval eval`: plans a job, runs it, writes results, prints the summary. */
export async function runEval(
  requested: EvalOptions,
  cwd: string,
  argv: string[] = process.argv,
): Promise<EvalOutcome> {
  const options = requested.resume ? await optionsFromJob(requested, cwd) : requested;
  if (options.compare && !options.skills)
    throw new UsageError('--compare and --no-skills contradict each other', {
      hint: '--compare runs both arms; --no-skills runs only the baseline',
    });
  const arms: Arm[] = options.compare ? ['with-skills', 'no-skills'] : options.skills ? ['with-skills'] : ['no-skills'];
  const agentNames = options.agent
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  const agents: JobAgent[] = agentNames.map((name) => ({ agent: getAgent(name), model: options.model }));

  // Keys first: a missing key fails before any build or trial, naming the variable.
  const forwarded = collectForwardedEnv(process.env, options.env);
  for (const { agent } of agents) {
    for (const variable of agent.requiredEnv) {
      if (!forwarded.env[variable]) {
        throw new UsageError(`the ${agent.name} agent needs ${variable}, which is not set`, {
          hint: [
            `  export ${variable}=…${KEY_HELP[variable] ? `   (get one at ${KEY_HELP[variable]})` : ''}`,
            `or check the infrastructure without any key:  pnpm run eval ${options.tasks[0] ?? 'superlint_demo'} --agent=oracle --provider=local`,
          ].join('\n'),
        });
      }
    }
  }

  const taskDirs = await expandTaskSpecs(options.tasks.length > 0 ? options.tasks : ['superlint_demo'], {
    cwd,
    tasksDir: options.tasksDir,
  });
  const tasks: Task[] = [];
  const brokenTasks: string[] = [];
  for (const dir of taskDirs) {
    const loaded = await loadTask(dir);
    const problems = loaded.ok ? checkTaskForProvider(loaded.task, options.provider) : loaded.problems;
    const errors = problems.filter((p) => p.severity === 'error');
    if (!loaded.ok || errors.length > 0) {
      brokenTasks.push(dir);
      for (const problem of errors as Problem[]) console.error(`error: ${formatProblem(problem)}`);
      continue;
    }
    for (const warning of loaded.task.warnings) if (!options.quiet) console.error(`warning: ${formatProblem(warning)}`);
    tasks.push(loaded.task);
  }
  if (tasks.length === 0) {
    throw new TaskFormatError([], { hint: `no runnable task among: ${taskDirs.join(', ')}` });
  }
  if (arms.includes('with-skills')) {
    for (const task of tasks) {
      if (task.skills.length === 0 && !options.quiet)
        console.error(`warning: ${task.name} has no skills: its with-skills arm equals the baseline`);
    }
  }

  // An agent that calls a model API cannot work in a container without network: say so before any trial.
  if (options.provider === 'docker' && options.network === undefined) {
    const apiAgents = agents.filter(({ agent }) => agent.requiredEnv.length > 0).map(({ agent }) => agent.name);
    const offline = tasks
      .filter((t) => !t.config.environment.allowInternet || t.config.environment.networkMode === 'none')
      .map((t) => t.name);
    if (apiAgents.length > 0 && offline.length > 0) {
      throw new UsageError(
        `${offline.join(', ')} ${offline.length === 1 ? 'has' : 'have'} no network (allow_internet = false), so ${apiAgents.join(', ')} cannot reach its model API inside the container`,
        {
          hint: 'allow it for this run with --network=bridge (or --network=host to reach an endpoint on this machine), or set allow_internet = true in task.toml',
        },
      );
    }
  }
  const provider = await createProvider(options.provider, { forceBuild: options.forceBuild, network: options.network });
  try {
    await provider.preflight();
  } catch (error) {
    if (error instanceof InfraError && options.provider === 'docker') {
      throw new InfraError(error.message, {
        cause: error,
        hint: `${error.hint ?? ''}\nor run without Docker:  pnpm run eval ${options.tasks.join(' ') || 'superlint_demo'} --provider=local`.trim(),
      });
    }
    throw error;
  }

  const createdAt = new Date();
  const resultsDir = resolve(cwd, options.resultsDir);
  const jobsDir = join(resultsDir, 'jobs');
  const redactor = new Redactor(forwarded.secrets);
  const planned: JobConfig = {
    job_id: options.jobName ?? `${timestampForFile(createdAt)}-${randomBytes(2).toString('hex')}`,
    created_at: createdAt.toISOString(),
    command_line: argv.slice(2),
    tasks: tasks.map((t) => ({ name: t.name, dir: t.dir, checksum: t.checksum })),
    agents: agents.map((a) => ({ name: a.agent.name, model: a.model })),
    arms,
    trials: options.trials,
    provider: options.provider,
    concurrency: options.concurrency,
    pass_threshold: options.passThreshold,
    forwarded_env: Object.keys(forwarded.env),
  };
  // Same plan, same job: a named job or the latest unfinished one with this plan continues where it stopped.
  let jobDir = join(jobsDir, planned.job_id);
  const existing = options.jobName || options.resume ? await readJobConfig(jobDir) : undefined;
  if (existing) {
    const changes = diffJobConfig(existing, planned);
    if (changes.length > 0) {
      throw new UsageError(
        `job ${planned.job_id} was planned differently; refusing to mix results:\n  ${changes.join('\n  ')}`,
        {
          hint: 'use another --job-name (or --new-job) for the new plan, or restore the old one to resume',
        },
      );
    }
    planned.created_at = existing.created_at;
    if (!options.quiet) console.error(`resuming job ${planned.job_id}`);
  } else if (!options.jobName && !options.newJob) {
    const resumable = await findResumableJob(jobsDir, planned);
    if (resumable) {
      const config = (await readJobConfig(resumable))!;
      jobDir = resumable;
      planned.job_id = config.job_id;
      planned.created_at = config.created_at;
      if (!options.quiet)
        console.error(`resuming unfinished job ${config.job_id} with the same plan (--new-job starts afresh)`);
    }
  }
  const jobId = planned.job_id;
  await writeJsonAtomic(join(jobDir, 'job.json'), planned);

  const controller = new AbortController();
  // Every running trial listens for cancel (lifecycle, exec, agent): more than Node's default warning threshold of 10.
  setMaxListeners(Math.max(50, options.concurrency * 10), controller.signal);
  const resumeCommand = `skill-eval eval --resume ${jobId}${options.resultsDir !== 'results' ? ` --results-dir ${options.resultsDir}` : ''}`;
  // Live display on a terminal, one line per trial in CI or a pipe, nothing with --quiet.
  const progress = createProgressReporter(
    chooseProgressMode({ quiet: options.quiet, isTTY: process.stderr.isTTY, env: process.env }),
    {
      redactor,
      concurrency: options.concurrency,
    },
  );
  const stopHandlingSignals = handleCancelSignals({
    onCancel: () => {
      progress.note(
        'stopping: no new trials; running trials are being stopped and cleaned up (press Ctrl-C again to force)',
      );
      controller.abort();
    },
    onForce: () => {
      progress.stop({ cancelled: true });
      // No graceful cleanup now, but containers are cheap to force-remove (5 s at most); local processes and
      // temp dirs are left to `skill-eval cleanup`.
      console.error(
        redactor.redact(
          `forced exit: finished trials are saved in ${jobDir}; running trials may have left processes or temp dirs (skill-eval cleanup removes them). Resume with:\n  ${resumeCommand}`,
        ),
      );
      const removeContainers =
        options.provider === 'docker'
          ? import('../environments/docker.js').then((docker) => docker.removeLiveContainers(5_000))
          : Promise.resolve(0);
      void removeContainers.catch(() => 0).finally(() => process.exit(EXIT_CODES.interrupted));
    },
  });
  let outcome: Awaited<ReturnType<typeof runJob>>;
  try {
    outcome = await runJob({
      jobId,
      jobDir,
      tasks,
      agents,
      arms,
      trials: options.trials,
      provider,
      concurrency: options.concurrency,
      env: forwarded.env,
      redactor,
      signal: controller.signal,
      forceBuild: options.forceBuild,
      agentTimeoutSec: options.agentTimeout,
      verifierTimeoutSec: options.verifierTimeout,
      passThreshold: options.passThreshold,
      maxRetries: options.maxRetries,
      onEvent: (event) => progress.onEvent(event),
    });
  } finally {
    stopHandlingSignals();
    progress.stop({ cancelled: controller.signal.aborted });
  }

  const summary = summarizeResults(jobId, outcome.results.length, outcome.results, options.passThreshold);
  const groups = new Map<
    string,
    { task: string; agent: string; model?: string | undefined; arm: string; results: typeof outcome.results }
  >();
  for (const r of outcome.results) {
    const key = JSON.stringify([r.task, r.agent, r.model ?? '', r.arm]);
    if (!groups.has(key)) groups.set(key, { task: r.task, agent: r.agent, model: r.model, arm: r.arm, results: [] });
    groups.get(key)!.results.push(r);
  }
  // Named after the job's start: a resumed job rewrites its reports instead of adding new ones.
  const reportPaths = await writeEvalReports({
    resultsDir,
    jobDir,
    createdAt: new Date(planned.created_at),
    commandLine: argv.slice(2),
    passThreshold: options.passThreshold,
    groups: [...groups.values()],
  });
  // Written last: a job killed before this point is unfinished, and the same command resumes it (runs nothing
  // more, writes the reports).
  await markReportsWritten(
    jobDir,
    reportPaths.map((path) => relative(jobDir, path)),
  );

  if (options.print === false) {
    // the caller reports
  } else if (options.json)
    process.stdout.write(`${JSON.stringify({ job_dir: jobDir, reports: reportPaths, ...summary }, null, 2)}\n`);
  else {
    process.stdout.write(`${renderEvalSummary(summary, { provider: options.provider, jobDir, reportPaths, cwd })}\n`);
    // Both arms ran: answer the question right here — gain, interval, verdict — as `analyze` would.
    if (arms.length === 2 && outcome.results.length > 0) {
      const { analyzeResults } = await import('../analytics/analyze.js');
      const { renderTerminal } = await import('../analytics/render/terminal.js');
      const report = await analyzeResults([jobDir], {
        passThreshold: options.passThreshold,
        includeErrorsAsFailures: false,
        k: [1],
      });
      process.stdout.write(
        `\n${renderTerminal(report, { color: process.stdout.isTTY === true && !process.env.NO_COLOR })}\n`,
      );
    }
  }

  if (outcome.cancelled) {
    console.error(
      `cancelled: ${outcome.results.length} trials finished and saved in ${jobDir}. Resume with:\n  ${resumeCommand}`,
    );
    return { exitCode: EXIT_CODES.interrupted, jobDir, summary, reportPaths, brokenTasks };
  }
  let exitCode: number = EXIT_CODES.ok;
  const infraErrors = summary.statuses.infra_error ?? 0;
  if (options.failUnder !== undefined) {
    const failing = summary.cells.filter(
      (c) => c.arm === arms[0] && (c.pass_rate === undefined || c.pass_rate < options.failUnder!),
    );
    if (failing.length > 0) {
      console.error(
        `gate: ${failing.map((c) => `${c.task} ${c.arm} ${c.pass_rate === undefined ? 'no data' : `${(c.pass_rate * 100).toFixed(1)}%`}`).join(', ')} below --fail-under ${(options.failUnder * 100).toFixed(1)}%`,
      );
      exitCode = EXIT_CODES.gateFailed;
    }
  }
  if (brokenTasks.length > 0) exitCode = EXIT_CODES.taskFormat;
  if (infraErrors > 0) {
    console.error(
      `${infraErrors} trial(s) ended in an infrastructure error: they are not counted as failures; see the trial directories under ${jobDir}`,
    );
    exitCode = EXIT_CODES.infra;
  }
  return { exitCode, jobDir, summary, reportPaths, brokenTasks };
}

export const registerEval: RegisterCommand = (program: Command, setExitCode) => {
  program
    .command('eval')
    .description(
      'Run an agent on tasks, with and/or without skills, many trials; verify each; write results and print pass rates.',
    )
    .argument(
      '[tasks...]',
      'task directories, names under --tasks-dir (exact or unique prefix: superlint → superlint_demo), folders of tasks, globs, or suite files (.txt)',
    )
    .option(
      '--agent <name>',
      'agent to run: oracle, nop, claude, gemini, codex, opencode (comma-separated for several)',
      'gemini',
    )
    .option('--model <id>', "model for the agent (default: the agent's own default)")
    .addOption(new Option('--provider <name>', 'where trials run').choices(['local', 'docker']).default('docker'))
    .option('--trials <n>', 'trials per task and arm', positiveInt('--trials'), 5)
    .option('--no-skills', 'run only the baseline arm: no skill anywhere in the environment')
    .option('--compare', 'run both arms (with and without skills) in one job', false)
    .option('--results-dir <dir>', 'where result files and job directories go', 'results')
    .option('--tasks-dir <dir>', 'where task names are looked up', 'tasks')
    .option(
      '--env <KEY[=VALUE]>',
      'forward a variable to the agent (treated as a secret: redacted everywhere); repeatable',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option(
      '--concurrency <n>',
      'trials running at once',
      positiveInt('--concurrency'),
      Math.max(1, Math.min(4, availableParallelism())),
    )
    .option('--agent-timeout <sec>', "override task.toml's [agent].timeout_sec", positiveNumber('--agent-timeout'))
    .option(
      '--verifier-timeout <sec>',
      "override task.toml's [verifier].timeout_sec",
      positiveNumber('--verifier-timeout'),
    )
    .option(
      '--pass-threshold <reward>',
      'reward at or above which a trial passes',
      (v: string) => {
        const n = Number(v);
        if (!Number.isFinite(n)) throw new UsageError(`--pass-threshold: expected a number, found "${v}"`);
        return n;
      },
      1,
    )
    .option(
      '--fail-under <rate>',
      "exit 1 when a task's pass rate (first arm) is below RATE (0..1 or 80%)",
      (v: string) => parseRate('--fail-under', v),
    )
    .option('--force-build', 'rebuild Docker images even when the content hash is unchanged', false)
    .option(
      '--network <mode>',
      "Docker network for every trial (none, bridge, host, or a network name), replacing task.toml's allow_internet/network_mode; recorded in each result's limits",
    )
    .option(
      '--job-name <name>',
      'name of the job directory under <results-dir>/jobs; an existing job of that name is resumed (its plan must match)',
    )
    .option(
      '--resume <job>',
      'continue an interrupted job: its saved plan (tasks, agents, arms, trials, provider) is used',
    )
    .option('--new-job', 'start a new job even if an unfinished one with the same plan exists', false)
    .option(
      '--max-retries <n>',
      'extra attempts for trials that hit an infrastructure failure (never for agent timeouts or failed verification)',
      (v: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0)
          throw new UsageError(`--max-retries: expected a whole number ≥ 0, found "${v}"`);
        return n;
      },
      2,
    )
    .option('--quiet', 'no progress lines', false)
    .option('--json', 'print the job summary as JSON on stdout', false)
    .addHelpText(
      'after',
      `
Examples:
  skill-eval eval superlint --agent=oracle --provider=local        check a task without any API key
  GEMINI_API_KEY=… skill-eval eval superlint --compare --trials=10  measure the skill's gain
Exit codes: 0 done, 1 --fail-under not met, 2 usage or task-format error, 3 infrastructure error, 130 interrupted (docs/exit-codes.md).`,
    )
    .action(async (tasks: string[], raw: Omit<EvalOptions, 'tasks'>) => {
      const outcome = await runEval({ ...raw, tasks }, process.cwd());
      setExitCode(outcome.exitCode);
    });
};

import { type Command, Option } from 'commander';
import { EXIT_CODES, UsageError } from '../errors.js';
import { DEFAULT_STALE_CLAIM_SEC, describeOwner } from '../jobs/claims.js';
import { applyEvalFlags, type PresetFlags, TRIAL_PRESETS } from '../jobs/eval-flags.js';
import { EVAL_DEFAULTS, type EvalJobOptions } from '../jobs/eval-options.js';
import type { EvalNotice } from '../jobs/eval-tasks.js';
import { evalExit } from '../jobs/exit-code.js';
import { plannedTrialNames } from '../jobs/plan.js';
import type { EvalPlan } from '../jobs/plan-eval.js';
import { chooseProgressMode, createProgressReporter } from '../jobs/progress.js';
import { type EvalJobOutcome, runEvalJob, writeJobFiles } from '../jobs/run-eval.js';
import type { LeftTrial } from '../jobs/run-job.js';
import { SEQUENTIAL_DEFAULTS, sequentialFromFlags } from '../jobs/sequential.js';
import { handleCancelSignals } from '../jobs/signals.js';
import { type JobSummary, summarizeResults } from '../jobs/summary.js';
import { planValidatedEval } from '../jobs/validate-first.js';
import type { TrialResult } from '../results/schema.js';
import { renderComparison, renderEvalSummary } from './eval-summary.js';
import type { RegisterCommand } from './registry.js';

/** What commander hands the action: `--trials` may be `auto`, with its own flags. */
type EvalFlags = Omit<EvalOptions, 'tasks' | 'trials' | 'aa'> &
  PresetFlags & { trials: number | 'auto'; maxTrials?: number; alpha?: number; ciWidth?: number } & {
    aa?: string | boolean;
  };

/** `skill-eval eval`'s flags: the job's options plus what only the command does (gate, printing). */
export interface EvalOptions extends EvalJobOptions {
  failUnder?: number | undefined;
  quiet: boolean;
  json: boolean;
  /** false: write results but print no summary (for commands built on eval). */
  print?: boolean | undefined;
  /** `--plan-only`: create the job directory (job.json) and run nothing; `skill-eval worker` runs it. */
  planOnly?: boolean | undefined;
  /** false (`--no-join`): refuse a job another live process is working on, instead of joining it as a worker. */
  join?: boolean | undefined;
  /** `worker --no-wait`: leave when nothing is left to claim, instead of waiting for other workers' trials. */
  noWait?: boolean | undefined;
  /** `--stale-claim-timeout`: seconds after which another host's unrefreshed claim is taken over. */
  staleClaimTimeout?: number | undefined;
  /** What this process is among the job's workers (status shows it): `eval` or `worker`. */
  role?: string | undefined;
}

export interface EvalOutcome {
  exitCode: number;
  jobDir: string;
  summary: JobSummary;
  reportPaths: string[];
  brokenTasks: string[];
  /** Every trial's result (tasks check reads the graders' scores from them). */
  results: TrialResult[];
}

export function positiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1)
      throw new UsageError(`${flag}: expected a positive whole number, found "${value}"`);
    return n;
  };
}

export function wholeNumber(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag}: expected a whole number ≥ 0, found "${value}"`);
    return n;
  };
}

export function positiveNumber(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0)
      throw new UsageError(`${flag}: expected a positive number of seconds, found "${value}"`);
    return n;
  };
}

function dollars(flag: string) {
  return (value: string): number => {
    const n = Number(value.trim().replace(/^\$/, ''));
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag}: expected an amount in USD > 0, found "${value}"`);
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

/** Planning's notices on stderr; --quiet keeps only the errors. */
function printNotice(quiet: boolean): (notice: EvalNotice) => void {
  return ({ level, message }) => {
    if (level === 'error') console.error(`error: ${message}`);
    else if (!quiet) console.error(level === 'warning' ? `warning: ${message}` : message);
  };
}

function resumeCommand(plan: EvalPlan): string {
  const { resultsDir } = plan.options;
  return `skill-eval eval --resume ${plan.config.job_id}${resultsDir !== 'results' ? ` --results-dir ${resultsDir}` : ''}`;
}

/** Runs the job with progress on stderr; the first Ctrl-C stops it gracefully, the second exits at once. */
async function runWithProgress(plan: EvalPlan, options: EvalOptions): Promise<EvalJobOutcome> {
  const { quiet } = options;
  const controller = new AbortController();
  // Live display on a terminal, one line per trial in CI or a pipe, nothing with --quiet.
  const progress = createProgressReporter(
    chooseProgressMode({ quiet, isTTY: process.stderr.isTTY, env: process.env }),
    {
      redactor: plan.redactor,
      concurrency: plan.options.concurrency,
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
      // No graceful cleanup now, but what the provider can force-remove cheaply goes (5 s at most, Docker:
      // containers); local processes and temp dirs are left to `skill-eval cleanup`.
      console.error(
        plan.redactor.redact(
          `forced exit: finished trials are saved in ${plan.jobDir}; running trials may have left processes or temp dirs (skill-eval cleanup removes them). Resume with:\n  ${resumeCommand(plan)}`,
        ),
      );
      void Promise.resolve()
        .then(() => plan.provider.forceRemoveLive?.(5_000))
        .catch(() => 0)
        .finally(() => process.exit(EXIT_CODES.interrupted));
    },
  });
  try {
    return await runEvalJob(plan, {
      signal: controller.signal,
      onEvent: (event) => progress.onEvent(event),
      onNotice: (notice) => (notice.level === 'note' ? progress.note(notice.message) : printNotice(quiet)(notice)),
      role: options.role,
      join: options.join,
      noWait: options.noWait,
      staleClaimSec: options.staleClaimTimeout,
    });
  } finally {
    stopHandlingSignals();
    progress.stop({ cancelled: controller.signal.aborted });
  }
}

async function printOutcome(plan: EvalPlan, outcome: EvalJobOutcome, json: boolean): Promise<void> {
  const { summary, reportPaths } = outcome;
  if (json) {
    process.stdout.write(`${JSON.stringify({ job_dir: plan.jobDir, reports: reportPaths, ...summary }, null, 2)}\n`);
    return;
  }
  const context = { provider: plan.config.provider, jobDir: plan.jobDir, reportPaths, cwd: plan.cwd };
  process.stdout.write(`${renderEvalSummary(summary, context)}\n`);
  // Both arms ran: answer the question right here — gain, interval, verdict — as `analyze` would.
  if (plan.arms.length >= 2 && outcome.results.length > 0)
    process.stdout.write(`\n${await renderComparison(plan.jobDir, plan.options.passThreshold)}\n`);
}

/** The exit code, each reason for a non-zero one said on stderr: gate, broken tasks, infrastructure errors. */
function finishedExitCode(plan: EvalPlan, summary: JobSummary, failUnder: number | undefined): number {
  // Tasks --validate left out are among the broken ones (planValidatedEval).
  const { exitCode, reasons } = evalExit({
    summary,
    arms: plan.arms,
    brokenTasks: plan.brokenTasks.length,
    failUnder,
    jobDir: plan.jobDir,
  });
  for (const reason of reasons) console.error(reason);
  return exitCode;
}

/** `--no-wait`: what this worker left to the others. */
function leftToOthersLine(plan: EvalPlan, left: readonly LeftTrial[]): string {
  const owners = new Set(left.map((t) => (t.owner ? describeOwner(t.owner) : 'a worker starting up')));
  return `job ${plan.config.job_id} is not complete: ${left.length} trial(s) are still claimed by other workers (${[...owners].join(', ')}); the last of them to finish writes summary.json and the reports (skill-eval status ${plan.jobDir})`;
}

/** `--plan-only`: the job directory, ready for `skill-eval worker`; nothing runs. */
async function planOnly(plan: EvalPlan, brokenTasks: string[]): Promise<EvalOutcome> {
  const config = await writeJobFiles(plan);
  const trials = plannedTrialNames(config).length;
  console.error(
    `planned job ${config.job_id}: ${trials} trials in ${plan.jobDir}; nothing ran. Run it with:\n  skill-eval worker ${plan.jobDir}`,
  );
  process.stdout.write(`${plan.jobDir}\n`);
  const summary = summarizeResults(config.job_id, trials, [], plan.options.passThreshold);
  const exitCode = brokenTasks.length > 0 ? EXIT_CODES.taskFormat : EXIT_CODES.ok;
  return { exitCode, jobDir: plan.jobDir, summary, reportPaths: [], brokenTasks, results: [] };
}

/**
 * `skill-eval eval`: plans a job (after the --validate check when asked), runs it, writes results, prints the
 * summary. `hostEnv`: where keys and forwarded variables come from (the shell's environment over the .env files).
 */
export async function runEval(
  options: EvalOptions,
  cwd: string,
  argv: string[] = process.argv,
  hostEnv: NodeJS.ProcessEnv = process.env,
): Promise<EvalOutcome> {
  const plan = await planValidatedEval(options, cwd, {
    commandLine: argv.slice(2),
    onNotice: printNotice(options.quiet),
    hostEnv,
  });
  const brokenTasks = plan.brokenTasks.map((t) => t.dir);
  if (options.planOnly) return planOnly(plan, brokenTasks);
  const outcome = await runWithProgress(plan, options);
  const { summary, reportPaths, results } = outcome;
  if (outcome.leftToOthers.length > 0 && !outcome.cancelled) {
    console.error(plan.redactor.redact(leftToOthersLine(plan, outcome.leftToOthers)));
    return { exitCode: EXIT_CODES.incomplete, jobDir: plan.jobDir, summary, reportPaths, brokenTasks, results };
  }
  if (options.print !== false) await printOutcome(plan, outcome, options.json);
  if (outcome.cancelled) {
    console.error(
      `cancelled: ${outcome.results.length} trials finished and saved in ${plan.jobDir}. Resume with:\n  ${resumeCommand(plan)}`,
    );
    return { exitCode: EXIT_CODES.interrupted, jobDir: plan.jobDir, summary, reportPaths, brokenTasks, results };
  }
  if (outcome.budgetStopped) {
    const { spentUsd, maxCostUsd, notStarted } = outcome.budgetStopped;
    console.error(
      `budget: the job spent $${spentUsd.toFixed(4)} of its --max-cost $${maxCostUsd}; ${notStarted} trial${notStarted === 1 ? ' was' : 's were'} not started. Resume with a higher budget:\n  ${resumeCommand(plan)} --max-cost <usd>`,
    );
  }
  const finished = finishedExitCode(plan, summary, options.failUnder);
  // Trials left unstarted by the budget: not "done", unless something graver (3, 2) already says so.
  const stoppedEarly = (outcome.budgetStopped?.notStarted ?? 0) > 0;
  const exitCode =
    stoppedEarly && finished !== EXIT_CODES.infra && finished !== EXIT_CODES.taskFormat
      ? EXIT_CODES.incomplete
      : finished;
  return { exitCode, jobDir: plan.jobDir, summary, reportPaths, brokenTasks, results };
}

/** `eval`'s command, arguments and what decides the trials: agents, models, provider, trials, arms, skills. */
function evalCommand(program: Command): Command {
  return program
    .command('eval')
    .description(
      'Run an agent on tasks, with and/or without skills, many trials; verify each; write results and print pass rates.',
    )
    .argument(
      '[tasks...]',
      'task directories, names under --tasks-dir (exact or unique prefix: superlint → superlint_demo), folders of tasks, globs, suite files (.txt), or a skillgrade eval.yaml (or a folder holding one)',
    )
    .option(
      '--agent <name>',
      'agent to run: oracle, nop, claude, gemini, codex, opencode, command, acp (comma-separated for several); when not given, the agent of the one API key set (ANTHROPIC_API_KEY → claude, GEMINI_API_KEY → gemini, OPENAI_API_KEY → codex), else gemini',
      EVAL_DEFAULTS.agent,
    )
    .option(
      '--command <line>',
      'with --agent=command: the command line that is the agent (bash, in the workdir; the instruction on stdin and in $SKILL_EVAL_INSTRUCTION_FILE)',
    )
    .option(
      '--acp-command <line>',
      'with --agent=acp: the command line that starts an Agent Client Protocol agent on stdio, in the environment',
    )
    .option(
      '--model <id>',
      "model for the agent, or one per agent: claude=claude-sonnet-4-5,gemini=gemini-2.5-pro (default: each agent's own)",
    )
    .option(
      '--grader-model <id>',
      "judge model of the tasks' llm_rubric graders that name none (claude-…, gemini-…, gpt-…; docs/graders.md)",
    )
    .addOption(
      new Option('--provider <name>', 'where trials run').choices(['local', 'docker']).default(EVAL_DEFAULTS.provider),
    )
    .option(
      '--trials <n>',
      'trials per task and arm, or auto: in rounds, each task stopping when its verdict is known (--max-trials, --alpha, --ci-width; docs/analyze.md)',
      (v: string) => {
        if (v.trim() === 'auto') return 'auto';
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1)
          throw new UsageError(`--trials: expected a positive whole number, found "${v}"`, {
            hint: 'or --trials auto: trials stop when the answer is known',
          });
        return n;
      },
      EVAL_DEFAULTS.trials,
    )
    .option(
      '--max-trials <n>',
      `with --trials auto: the most trials per task and arm (default ${SEQUENTIAL_DEFAULTS.maxTrials})`,
      positiveInt('--max-trials'),
    )
    .option(
      '--alpha <a>',
      `with --trials auto: the error rate the stopping test keeps (default ${SEQUENTIAL_DEFAULTS.alpha})`,
      (v: string) => {
        const n = Number(v);
        if (!(n > 0 && n < 1)) throw new UsageError(`--alpha: expected a number between 0 and 1, found "${v}"`);
        return n;
      },
    )
    .option(
      '--ci-width <w>',
      "with --trials auto: stop a task when every arm's Wilson interval is narrower than W (instead of when decided)",
      (v: string) => {
        const n = Number(v);
        if (!(n > 0 && n <= 1)) throw new UsageError(`--ci-width: expected a width between 0 and 1, found "${v}"`);
        return n;
      },
    )
    .option('--smoke', `preset: ${TRIAL_PRESETS.smoke} trials per task and arm (a first look)`)
    .option('--reliable', `preset: ${TRIAL_PRESETS.reliable} trials per task and arm (a decision)`)
    .option('--regression', `preset: ${TRIAL_PRESETS.regression} trials per task and arm (catch small changes)`)
    .option(
      '--validate',
      'first run the oracle (must pass) and nop (must fail) on every task, as `tasks check` does; tasks that fail are reported and left out',
      false,
    )
    .option('--no-skills', 'run only the baseline arm: no skill anywhere in the environment')
    .option('--compare', 'run both arms (with and without skills) in one job', EVAL_DEFAULTS.compare)
    .option(
      '--arms <list>',
      'the arms to run, comma-separated, in place of --compare/--no-skills: no-skills, with-skills, skill-as-prompt, self-generated, skill-variant:NAME=DIR, with-distractors:N (docs/cli.md)',
      (v: string, prev: string[] | undefined) => [...(prev ?? []), ...v.split(',').map((a) => a.trim())],
    )
    .option(
      '--aa [arm]',
      'A/A: run ARM (default no-skills) twice, as ARM and ARM~aa; their Δ is noise alone (analyze --noise-from)',
    )
    .option('--distractor-pool <dir>', 'where with-distractors:N draws its N other skills from: a folder of skills')
    .option(
      '--skill <source>',
      "add skills to every task's with-skills arm: a folder (a skill or a folder of skills), a git URL[#REF][:SUBDIR] or ORG/NAME[@REF] (GitHub); repeatable, the last of a name wins; one named like a task's skill replaces it",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    );
}

/** The model gateway's flags (docs/gateway.md). */
function gatewayFlags(command: Command): Command {
  return command
    .option(
      '--no-gateway',
      'no model gateway: API agents get the forwarded keys inside their sandboxes (the key can leak; no budgets, no recording; an offline task in Docker then needs --network)',
    )
    .option('--record', "keep every model call in the trial's model_calls.jsonl (the default with the gateway)")
    .option('--no-record', 'do not keep the model calls (usage is still counted; such a job cannot be replayed)')
    .option(
      '--max-tokens-per-trial <n>',
      "stop a trial's agent once its calls used N tokens (input + output): status budget_exceeded, verified anyway",
      positiveInt('--max-tokens-per-trial'),
    )
    .option(
      '--max-cost-per-trial <usd>',
      "stop a trial's agent once its calls cost USD at the gateway's price table: status budget_exceeded",
      dollars('--max-cost-per-trial'),
    )
    .option(
      '--max-cost <usd>',
      'stop starting trials once the job spent USD (running ones are stopped at their next call); resume with a higher --max-cost',
      dollars('--max-cost'),
    )
    .option(
      '--replay <job>',
      "re-run JOB's trials (tasks, agents, arms, trials) in a new job, every model call answered from the matching trial's model_calls.jsonl: no upstream call, no key needed; a request with no recorded answer ends the trial as replay_miss",
    )
    .option(
      '--prices <file>',
      'model prices over the gateway\'s built-in table: JSON {"model": {"input": USD per 1M, "output": …, "cachedInput": …}} (docs/gateway.md)',
    );
}

export const registerEval: RegisterCommand = (program: Command, setExitCode) => {
  gatewayFlags(evalCommand(program))
    .option('--results-dir <dir>', 'where result files and job directories go', EVAL_DEFAULTS.resultsDir)
    .option('--tasks-dir <dir>', 'where task names are looked up', 'tasks')
    .option(
      '--env <KEY[=VALUE]>',
      'forward a variable to the agent (treated as a secret: redacted everywhere); repeatable',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--concurrency <n>', 'trials running at once', positiveInt('--concurrency'), EVAL_DEFAULTS.concurrency)
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
      EVAL_DEFAULTS.passThreshold,
    )
    .option(
      '--fail-under <rate>',
      "exit 1 when a task's pass rate (first arm) is below RATE (0..1 or 80%)",
      (v: string) => parseRate('--fail-under', v),
    )
    .option('--force-build', 'rebuild Docker images even when the content hash is unchanged', EVAL_DEFAULTS.forceBuild)
    .option(
      '--network <mode>',
      "Docker network for every trial (none, bridge, host, or a network name), replacing task.toml's allow_internet/network_mode; recorded in each result's limits",
    )
    .option(
      '--runtime <name>',
      "Docker engine runtime for every trial container: runsc runs untrusted agents under gVisor (register it with scripts/setup/gvisor.sh); recorded in each result's limits",
    )
    .option(
      '--job-name <name>',
      'name of the job directory under <results-dir>/jobs; an existing job of that name is resumed (its plan must match)',
    )
    .option(
      '--resume <job>',
      'continue an interrupted job: its saved plan (tasks, agents, arms, trials, provider) is used',
    )
    .option('--new-job', 'start a new job even if an unfinished one with the same plan exists', EVAL_DEFAULTS.newJob)
    .option(
      '--plan-only',
      'create the job directory (job.json) and run nothing: `skill-eval worker JOB_DIR` runs it, from any number of processes',
    )
    .option(
      '--no-join',
      'refuse a job another live process is already working on, instead of joining it as a worker (docs/scale.md)',
    )
    .option(
      '--stale-claim-timeout <sec>',
      `take over another host's trial claim when its heartbeat has not moved for this long (default ${DEFAULT_STALE_CLAIM_SEC})`,
      positiveNumber('--stale-claim-timeout'),
    )
    .option(
      '--baseline-from <job>',
      'copy the no-skills trials of an earlier job (name under <results-dir>/jobs, a path, or auto: the newest that matches) instead of running them again; only trials whose baseline fingerprint matches',
    )
    .option(
      '--max-retries <n>',
      'extra attempts for trials that hit an infrastructure failure (never for agent timeouts or failed verification)',
      wholeNumber('--max-retries'),
      EVAL_DEFAULTS.maxRetries,
    )
    .option(
      '--no-audit',
      'skip the isolation (no skill reachable in the no-skills arm) and tamper (verifier territory touched) audits every trial records by default',
    )
    .option(
      '--workspace-archive-max-mb <mb>',
      "cap on each trial's workspace.tar.gz (the workdir as the agent left it, what `regrade` verifies again); 0: none",
      (v: string) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n < 0)
          throw new UsageError(`--workspace-archive-max-mb: expected a number ≥ 0, found "${v}"`);
        return n;
      },
      EVAL_DEFAULTS.workspaceArchiveMaxMb,
    )
    .option('--quiet', 'no progress lines', false)
    .option('--json', 'print the job summary as JSON on stdout', false)
    .addHelpText(
      'after',
      `
Examples:
  skill-eval eval superlint --agent=oracle --provider=local        check a task without any API key
  GEMINI_API_KEY=… skill-eval eval superlint --compare --trials=10  measure the skill's gain
  skill-eval eval my-skill --smoke --validate                      a skill folder: its evals/ or eval.yaml, both arms
  skill-eval eval superlint --compare --skill anthropics/skills@main:skills/pdf   a skill from GitHub
  skill-eval eval superlint --compare --baseline-from auto          after editing only the skill: reuse the last baseline
Variables: .env files (KEY=VALUE) in the working directory, the skill folder and each task directory are read,
the more specific winning, the shell's environment over all of them; their variables reach the agent as secrets.
Exit codes: 0 done, 1 --fail-under not met, 2 usage or task-format error, 3 infrastructure error, 4 an agent CLI cannot be installed, 130 interrupted (docs/exit-codes.md).`,
    )
    .action(async (tasks: string[], flags: EvalFlags, command: Command) => {
      const cwd = process.cwd();
      const { maxTrials, alpha, ciWidth, aa, ...rest } = flags;
      const raw = {
        ...rest,
        aa: aa === true ? 'no-skills' : aa || undefined,
        ...sequentialFromFlags({ trials: flags.trials, maxTrials, alpha, ciWidth }),
      };
      const { options, hostEnv, notes } = await applyEvalFlags({ ...raw, tasks }, cwd, {
        given: (flag) => command.getOptionValueSource(flag) === 'cli',
        shellEnv: process.env,
      });
      if (!options.quiet) for (const note of notes) console.error(note);
      const outcome = await runEval(options, cwd, process.argv, hostEnv);
      setExitCode(outcome.exitCode);
    });
};

import { availableParallelism } from 'node:os';
import { dirname, relative } from 'node:path';
import { type Command, Option } from 'commander';
import { EXIT_CODES, UsageError } from '../errors.js';
import { REJECTED_DIR } from '../init/accept.js';
import { type InitOptions, type InitOutcome, runInit } from '../init/init.js';
import { displayPath } from '../util/problems.js';
import { withCancel } from './cancel.js';
import type { RegisterCommand } from './registry.js';

function taskCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10)
    throw new UsageError(`--count: expected a whole number from 1 to 10, found "${value}"`);
  return n;
}

function printOutcome(outcome: InitOutcome, cwd: string): number {
  const evals = displayPath(outcome.evalsDir, cwd);
  if (outcome.mode === 'template') {
    console.log(`wrote a commented task template for ${outcome.skill.name}:`);
    for (const file of outcome.files) console.log(`  ${displayPath(file, cwd)}`);
    console.log(
      `\nNo API key is set, so no agent drafted tasks (set ANTHROPIC_API_KEY, GEMINI_API_KEY or OPENAI_API_KEY, or pass --agent).\nNext: edit the task, then\n  skill-eval tasks check ${evals} --provider=local\n  skill-eval eval ${displayPath(dirname(outcome.evalsDir), cwd)} --smoke   (both arms: with and without the skill)`,
    );
    return EXIT_CODES.ok;
  }
  const kept = outcome.verdicts.filter((v) => v.kept);
  const rejected = outcome.verdicts.filter((v) => !v.kept);
  if (outcome.sessionError) console.error(`warning: the drafting session ended with ${outcome.sessionError}`);
  for (const v of kept) console.log(`kept      ${displayPath(v.dir, cwd)}`);
  for (const v of rejected) {
    console.log(`rejected  ${displayPath(v.dir, cwd)}`);
    for (const reason of v.reasons) console.log(`            ${reason}`);
  }
  console.log(
    `\n${outcome.agent} drafted ${outcome.verdicts.length} task(s): ${kept.length} kept in ${evals}, ${rejected.length} rejected${rejected.length > 0 ? ` (moved to ${relative(cwd, outcome.evalsDir) || '.'}/${REJECTED_DIR}/, each with a REJECTED.md)` : ''}. The session: ${displayPath(outcome.sessionDir, cwd)}`,
  );
  if (kept.length > 0)
    console.log(
      `Next: read the kept tasks, then  skill-eval eval ${displayPath(dirname(outcome.evalsDir), cwd)} --smoke`,
    );
  // Nothing usable came out: a task problem (exit 2), as for `tasks check`.
  return kept.length > 0 ? EXIT_CODES.ok : EXIT_CODES.taskFormat;
}

export const registerInit: RegisterCommand = (program: Command, setExitCode) => {
  program
    .command('init')
    .description(
      'Write evaluation tasks for the skill in DIR (it holds SKILL.md) into DIR/evals/: an agent drafts them when an API key is set (each checked: valid, oracle passes, nop fails), else a commented template.',
    )
    .argument('[dir]', 'the skill folder (holds SKILL.md)', '.')
    .option('--force', 'replace what init writes over (the template, drafted tasks of the same name)', false)
    .option('--agent <name>', 'the agent that drafts the tasks (default: the agent of the one API key set)')
    .option('--model <id>', "the drafting agent's model (default: its own)")
    .option('--count <n>', 'tasks the agent drafts (1-10)', taskCount, 3)
    .addOption(
      new Option('--provider <name>', "where the drafted tasks' oracle/nop check runs")
        .choices(['local', 'docker'])
        .default('local'),
    )
    .option('--results-dir <dir>', 'where the drafting session and the check are recorded (under init/)', 'results')
    .action(async (dir: string, raw: Omit<InitOptions, 'dir' | 'concurrency'>, command: Command) => {
      const cwd = process.cwd();
      const options: InitOptions = {
        ...raw,
        dir,
        concurrency: Math.max(1, Math.min(4, availableParallelism())),
      };
      const outcome = await withCancel((signal) =>
        runInit(options, cwd, {
          signal,
          onNotice: ({ level, message }) => console.error(level === 'note' ? message : `${level}: ${message}`),
        }),
      );
      if (outcome.mode === 'template' && command.getOptionValueSource('count') === 'cli')
        console.error('note: --count applies when an agent drafts the tasks; the template is one task');
      setExitCode(printOutcome(outcome, cwd));
    });
};

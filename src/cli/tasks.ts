import type { Command } from 'commander';
import { createProvider } from '../environments/registry.js';
import { formatProblem } from '../errors.js';
import { type ValidationReport, validateTasks } from '../task/validate.js';
import type { RegisterCommand } from './registry.js';

/**
 * The `tasks` command group. Created once per program, so sibling modules (e.g. `tasks check`) can add their
 * own subcommands: `tasksCommand(program).command('check')…`.
 */
export function tasksCommand(program: Command): Command {
  const existing = program.commands.find((command) => command.name() === 'tasks');
  if (existing) return existing;
  return program.command('tasks').description('Work with task directories (Harbor format).');
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** The human-readable report: every problem grouped per task, then a summary line. */
export function formatValidationReport(report: ValidationReport): string {
  const lines: string[] = [];
  for (const task of report.tasks) {
    const counts = [task.problems.length > 0 ? plural(task.problems.length, 'error') : 'ok'];
    if (task.warnings.length > 0) counts.push(plural(task.warnings.length, 'warning'));
    lines.push(`${task.path}: ${counts.join(', ')}`);
    for (const problem of task.problems) lines.push(`  error: ${formatProblem(problem)}`);
    for (const problem of task.warnings) lines.push(`  warning: ${formatProblem(problem)}`);
  }
  const { summary } = report;
  let line = `${plural(summary.tasks, 'task')}: ${summary.ok} ok, ${summary.withErrors} with errors`;
  if (summary.warnings > 0) line += `, ${plural(summary.warnings, 'warning')}`;
  lines.push('', line);
  return lines.join('\n');
}

export const registerTasks: RegisterCommand = (program, setExitCode) => {
  tasksCommand(program)
    .command('validate')
    .description('Check task directories (task.toml, instruction.md, tests/test.sh, skills) and report every problem.')
    .argument('[dirs...]', 'task directories, task names, folders of tasks, globs or suite files (.txt)', ['./tasks'])
    .option('--json', 'print a machine-readable report on stdout')
    .option('--tasks-dir <dir>', 'where task names are looked up', './tasks')
    .option('--provider <name>', 'also check what this environment provider needs (docker: an environment)')
    .action(async (dirs: string[], options: { json?: boolean; tasksDir: string; provider?: string }) => {
      const report = await validateTasks(dirs, {
        cwd: process.cwd(),
        tasksDir: options.tasksDir,
        provider: options.provider === undefined ? undefined : await createProvider(options.provider),
      });
      if (options.json) console.log(JSON.stringify(report, undefined, 2));
      else console.log(formatValidationReport(report));
      if (report.summary.withErrors > 0) setExitCode(2);
    });
};

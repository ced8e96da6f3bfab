import { formatProblem } from '../errors.js';
import { convertEvalYaml } from '../evalyaml/convert.js';
import { displayPath } from '../util/problems.js';
import type { RegisterCommand } from './registry.js';
import { tasksCommand } from './tasks.js';

export const registerTasksConvert: RegisterCommand = (program, setExitCode) => {
  tasksCommand(program)
    .command('convert')
    .description('Convert a skillgrade eval.yaml into Harbor task directories, one per eval (docs/eval-yaml.md).')
    .argument('<eval-yaml>', 'an eval.yaml, or a folder holding one')
    .option('--out <dir>', 'where the task directories go', 'tasks')
    .option('--force', 'replace task directories that already exist', false)
    .action(async (file: string, options: { out: string; force: boolean }) => {
      const cwd = process.cwd();
      const outcome = await convertEvalYaml({ file, out: options.out, force: options.force }, cwd);
      for (const warning of outcome.warnings) console.error(`warning: ${formatProblem(warning)}`);
      for (const problem of outcome.problems) console.error(`error: ${formatProblem(problem)}`);
      for (const dir of outcome.written) console.log(`wrote ${displayPath(dir, cwd)}`);
      if (outcome.written.length > 0)
        console.log(`${outcome.written.length} task${outcome.written.length === 1 ? '' : 's'} written`);
      if (outcome.problems.length > 0) setExitCode(2);
    });
};

import type { Command } from 'commander';
import { EXIT_CODES, errorMessage, SkillEvalError } from '../errors.js';
import { type EvalOptions, runEval } from './eval.js';
import type { RegisterCommand } from './registry.js';

export interface BootstrapCheck {
  provider: string;
  agent: string;
  expected: 'pass' | 'fail';
  ok: boolean;
  detail: string;
}

/**
 * The infrastructure check (the original README's `test:bootstrap`): oracle must pass and nop must fail
 * superlint_demo on every provider — without any API key.
 */
export async function runBootstrapChecks(
  options: { providers: string[]; task: string; resultsDir: string },
  cwd: string,
): Promise<BootstrapCheck[]> {
  const checks: BootstrapCheck[] = [];
  for (const provider of options.providers) {
    for (const [agent, expected] of [
      ['oracle', 'pass'],
      ['nop', 'fail'],
    ] as const) {
      const evalOptions: EvalOptions = {
        tasks: [options.task],
        agent,
        provider,
        trials: 1,
        skills: true,
        compare: false,
        resultsDir: options.resultsDir,
        env: [],
        concurrency: 1,
        passThreshold: 1,
        forceBuild: false,
        newJob: true,
        maxRetries: 0,
        quiet: true,
        json: false,
        print: false,
      };
      try {
        const outcome = await runEval(evalOptions, cwd, ['node', 'skill-eval', 'test-bootstrap']);
        const cell = outcome.summary.cells[0];
        const passed = cell?.passed ?? 0;
        const ok =
          outcome.exitCode === EXIT_CODES.ok &&
          (expected === 'pass' ? passed === 1 : passed === 0 && cell?.errors === 0);
        checks.push({ provider, agent, expected, ok, detail: `statuses: ${JSON.stringify(outcome.summary.statuses)}` });
      } catch (error) {
        const hint = error instanceof SkillEvalError && error.hint ? ` — ${error.hint}` : '';
        checks.push({ provider, agent, expected, ok: false, detail: `${errorMessage(error)}${hint}` });
      }
    }
  }
  return checks;
}

export const registerTestBootstrap: RegisterCommand = (program: Command, setExitCode) => {
  program
    .command('test-bootstrap')
    .description(
      'Check the infrastructure end to end without any API key: oracle must pass and nop must fail superlint_demo, on the local and Docker providers.',
    )
    .option('--providers <list>', 'providers to check', 'local,docker')
    .option('--task <name>', 'task to check with', 'superlint_demo')
    .option('--results-dir <dir>', 'where the check writes its results', 'results/bootstrap')
    .action(async (options: { providers: string; task: string; resultsDir: string }) => {
      const checks = await runBootstrapChecks(
        {
          providers: options.providers.split(',').map((p) => p.trim()),
          task: options.task,
          resultsDir: options.resultsDir,
        },
        process.cwd(),
      );
      for (const check of checks) {
        console.log(
          `${check.ok ? 'ok  ' : 'FAIL'}  ${check.provider.padEnd(7)} ${check.agent.padEnd(7)} must ${check.expected}   ${check.ok ? '' : check.detail}`,
        );
      }
      const failed = checks.filter((c) => !c.ok).length;
      console.log(failed === 0 ? 'infrastructure check passed' : `${failed} check(s) failed`);
      setExitCode(failed === 0 ? EXIT_CODES.ok : EXIT_CODES.infra);
    });
};

import { resolve } from 'node:path';
import { Option } from 'commander';
import { getAgent } from '../agents/registry.js';
import { UsageError } from '../errors.js';
import { MODE_NAMES, type ModeName } from '../targets/contract.js';
import { type VerifySuiteSummary, verifySuite } from '../targets/suite.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import type { RegisterCommand } from './registry.js';

interface VerifySuiteFlags {
  targets: string[];
  llm: string;
  evalMode: string;
  requireSamples?: boolean;
  repairIters: string;
  repairAgent?: string;
  repairModel?: string;
  derive?: boolean;
  baseUrl?: string;
  cacheDir?: string;
  contractsDir?: string;
  artifactsDir: string;
  out?: string;
  offline?: boolean;
  canaryCheck: boolean;
  quiet?: boolean;
}

function parseIters(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 20)
    throw new UsageError(`--repair-iters: expected an integer from 0 to 20, found ${JSON.stringify(text)}`);
  return value;
}

export function formatSuite(summary: VerifySuiteSummary): string {
  const lines = summary.results.map((r) => {
    const score =
      r.metrics?.score !== undefined
        ? `${r.metrics.primary_metric}=${r.metrics.score.toFixed(4)}${r.metrics.ci95 ? ` [${r.metrics.ci95.low.toFixed(3)}–${r.metrics.ci95.high.toFixed(3)}]` : ''} n=${r.metrics.counts.samples}`
        : '';
    return r.ok
      ? `ok      ${r.target}  ${score}`
      : `FAILED  ${r.target}  at ${r.failed_stage} (${r.failure_code}): ${r.error}`;
  });
  lines.push(`${summary.results.filter((r) => r.ok).length}/${summary.results.length} targets ok`);
  return lines.join('\n');
}

export const registerVerifySuite: RegisterCommand = (program, setExitCode) => {
  program
    .command('verify-suite')
    .description(
      'Per target: setup → rollout → evaluate → teardown; one JSON summary on stdout. Exit 0 when every target is ok.',
    )
    .requiredOption(
      '--targets <targets...>',
      'directories, git URLs (URL#REV) or Hugging Face datasets (ORG/NAME[@REV])',
    )
    .requiredOption('--llm <model>', 'gold | empty (canaries) or a model name at --base-url')
    .addOption(
      new Option('--eval-mode <mode>', 'sample limit and seeds from the contract')
        .choices([...MODE_NAMES])
        .default('smoke'),
    )
    .option('--require-samples', 'fail a rollout whose samples do not pass the integrity checks')
    .option('--repair-iters <n>', 'let an agent fix a failing contract up to N times', '0')
    .option('--repair-agent <name>', 'agent harness for repairs (see `skill-eval agents`)')
    .option('--repair-model <id>', 'model for the repair agent')
    .option('--derive', 'let the repair agent draft a contract for targets without one')
    .option('--base-url <url>', 'OpenAI-compatible endpoint of --llm (default OPENAI_BASE_URL)')
    .option('--cache-dir <dir>', 'target cache (default ~/.cache/skill-eval/targets)')
    .option('--contracts-dir <dir>', 'contracts for targets you do not own: <dir>/<slug>/contract.yaml')
    .option('--artifacts-dir <dir>', 'where runs write <run_id>/env_api/', 'results/targets')
    .option('--out <file>', 'also write the JSON summary to this file')
    .option('--offline', 'use only what the cache holds')
    .option('--no-canary-check', 'skip the empty-canary integrity run')
    .option('--quiet', 'no progress on stderr')
    .action(async (flags: VerifySuiteFlags) => {
      const repairIters = parseIters(flags.repairIters);
      const repairAgent = flags.repairAgent ? getAgent(flags.repairAgent) : undefined;
      if (repairIters > 0 && !repairAgent)
        throw new UsageError('--repair-iters needs --repair-agent NAME', {
          hint: 'e.g. --repair-agent claude; see `skill-eval agents`',
        });
      const summary = await verifySuite({
        targets: flags.targets,
        llm: flags.llm,
        mode: flags.evalMode as ModeName,
        requireSamples: flags.requireSamples ?? false,
        repairIters,
        repairAgent,
        repairModel: flags.repairModel,
        derive: flags.derive,
        baseUrl: flags.baseUrl,
        cacheDir: flags.cacheDir,
        contractsDir: flags.contractsDir,
        artifactsDir: flags.artifactsDir,
        offline: flags.offline,
        canaryCheck: flags.canaryCheck,
        log: flags.quiet ? undefined : (line) => process.stderr.write(`${line}\n`),
      });
      if (flags.out) await writeJsonAtomic(resolve(flags.out), summary);
      if (!flags.quiet) process.stderr.write(`${formatSuite(summary)}\n`);
      console.log(JSON.stringify(summary, undefined, 2));
      setExitCode(summary.ok ? 0 : 1);
    });
};

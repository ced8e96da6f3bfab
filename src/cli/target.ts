import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { getAgent } from '../agents/registry.js';
import { formatProblem, TaskFormatError, UsageError } from '../errors.js';
import {
  CONTRACT_FILE,
  IN_TARGET_CONTRACT_DIR,
  loadContract,
  locateContract,
  targetFileProblems,
} from '../targets/contract.js';
import { formatHints, mineHints } from '../targets/hints.js';
import { importPipeline } from '../targets/import-pipeline.js';
import { readProvenance, writeProvenance } from '../targets/provenance.js';
import { repairTarget } from '../targets/repair.js';
import { resolveTarget } from '../targets/resolve/index.js';
import { verifyTarget } from '../targets/suite.js';
import type { RegisterCommand } from './registry.js';

/** The `target` command group; sibling modules may add subcommands to it. */
export function targetCommand(program: Command): Command {
  const existing = program.commands.find((command) => command.name() === 'target');
  if (existing) return existing;
  return program.command('target').description('Benchmark targets: resolve, hints, contracts (docs/targets.md).');
}

interface ResolveFlags {
  cacheDir?: string;
  offline?: boolean;
  include?: string[];
  json?: boolean;
}

function addResolveFlags(command: Command): Command {
  return command
    .option('--cache-dir <dir>', 'target cache (default ~/.cache/skill-eval/targets)')
    .option('--offline', 'use only what the cache holds')
    .option('--include <globs...>', 'Hugging Face: fetch only matching files');
}

type ContractFlags = ResolveFlags & { contract?: string; contractsDir?: string };
type SetExitCode = (code: number) => void;

function resolveFromFlags(spec: string, flags: ResolveFlags) {
  return resolveTarget(spec, { cacheDir: flags.cacheDir, offline: flags.offline, include: flags.include });
}

async function locateFromFlags(spec: string, flags: ContractFlags) {
  const resolved = await resolveFromFlags(spec, flags);
  const location = await locateContract({
    targetDir: resolved.dir,
    slug: resolved.slug,
    contractsDir: flags.contractsDir,
    contractFile: flags.contract,
  });
  return { ...location, targetDir: resolved.dir };
}

function addContractFlags(command: Command): Command {
  return command
    .option('--contract <file>', 'an explicit contract.yaml')
    .option('--contracts-dir <dir>', 'contracts for targets you do not own: <dir>/<slug>/contract.yaml');
}

function registerResolve(target: Command): void {
  addResolveFlags(
    target
      .command('resolve')
      .description('Fetch a target into the cache (git, Hugging Face) and print where it is.')
      .argument('<target>', 'directory, git URL (URL#REV) or Hugging Face dataset (ORG/NAME[@REV])'),
  )
    .option('--json', 'print JSON')
    .action(async (spec: string, flags: ResolveFlags) => {
      const resolved = await resolveFromFlags(spec, flags);
      if (flags.json) {
        console.log(JSON.stringify({ ...resolved, manifest: undefined }, undefined, 2));
        return;
      }
      console.log(`${resolved.kind} ${resolved.slug}: ${resolved.dir}`);
      if (resolved.commit)
        console.log(`revision ${resolved.revision ?? ''} = ${resolved.commit}${resolved.fromCache ? ' (cache)' : ''}`);
      if (resolved.manifestPath)
        console.log(
          `manifest: ${resolved.manifestPath} (${resolved.manifest?.files.length} files, ${resolved.manifest?.total_bytes} bytes)`,
        );
      for (const note of resolved.notes) console.log(`note: ${note}`);
    });
}

function registerHints(target: Command): void {
  addResolveFlags(
    target
      .command('hints')
      .description(
        "List the setup/test/eval/generate commands the target's README, docs, CI, Makefile and package files show, with file:line.",
      )
      .argument('<target>', 'directory, git URL or Hugging Face dataset'),
  )
    .option('--json', 'print JSON')
    .action(async (spec: string, flags: ResolveFlags) => {
      const resolved = await resolveFromFlags(spec, flags);
      const report = await mineHints(resolved.dir);
      console.log(flags.json ? JSON.stringify(report, undefined, 2) : formatHints(report));
    });
}

function registerValidate(target: Command, setExitCode: SetExitCode): void {
  addContractFlags(
    addResolveFlags(
      target
        .command('validate')
        .description("Check a target's contract and list every problem with file and key.")
        .argument('<target>', 'directory, git URL or Hugging Face dataset'),
    ),
  ).action(async (spec: string, flags: ContractFlags) => {
    const location = await locateFromFlags(spec, flags);
    if (!location.exists) {
      console.error(`error: no contract for ${spec}: expected ${location.file}`);
      setExitCode(2);
      return;
    }
    try {
      const { contract } = await loadContract(location.file);
      const missing = await targetFileProblems(contract, location.targetDir, location.file);
      if (missing.length > 0) throw new TaskFormatError(missing);
      console.log(
        `${location.file}: ok (${contract.stages.rollout.driver} rollout, ${contract.stages.evaluate.driver} evaluate, primary metric ${contract.scoring.primary_metric})`,
      );
    } catch (error) {
      if (!(error instanceof TaskFormatError)) throw error;
      for (const problem of error.problems) console.error(`error: ${formatProblem(problem)}`);
      setExitCode(2);
    }
  });
}

function registerImport(target: Command): void {
  target
    .command('import')
    .description('Convert a Python runner pipeline.yml (version 1) into a contract; prints what went where.')
    .argument('<pipeline>', 'the pipeline.yml file')
    .option('--out <dir>', 'directory for contract.yaml (default: .skill-eval/ beside the pipeline file)')
    .option('--force', 'overwrite an existing contract.yaml')
    .action(async (pipeline: string, flags: { out?: string; force?: boolean }) => {
      const file = resolve(pipeline);
      const text = await readFile(file, 'utf8').catch(() => {
        throw new UsageError(`${file}: cannot read the pipeline file`);
      });
      const imported = importPipeline(text, file);
      const outDir = resolve(flags.out ?? join(dirname(file), IN_TARGET_CONTRACT_DIR));
      const outFile = join(outDir, CONTRACT_FILE);
      const exists = await stat(outFile).then(
        () => true,
        () => false,
      );
      if (!flags.force && exists) throw new UsageError(`${outFile} exists`, { hint: 'pass --force to overwrite it' });
      await mkdir(outDir, { recursive: true });
      await writeFile(outFile, imported.text);
      for (const line of imported.mapping) console.log(line);
      console.log(`wrote ${outFile}`);
    });
}

function registerAccept(target: Command): void {
  addContractFlags(
    addResolveFlags(
      target
        .command('accept')
        .description('Mark an agent-written contract as reviewed (until it changes again).')
        .argument('<target>', 'directory, git URL or Hugging Face dataset'),
    ),
  ).action(async (spec: string, flags: ContractFlags) => {
    const location = await locateFromFlags(spec, flags);
    if (!location.exists) throw new UsageError(`no contract for ${spec}: expected ${location.file}`);
    const loaded = await loadContract(location.file);
    const provenance = await readProvenance(loaded.dir);
    if (!provenance) {
      console.log(`${location.file}: no agent changes recorded; nothing to accept`);
      return;
    }
    provenance.reviewed = true;
    provenance.accepted_digest = loaded.digest;
    provenance.accepted_at = new Date().toISOString();
    provenance.accepted_by = process.env.USER ?? process.env.LOGNAME ?? 'unknown';
    await writeProvenance(loaded.dir, provenance);
    console.log(
      `${location.file}: accepted (sha256 ${loaded.digest.slice(0, 12)}…, ${provenance.changes.length} recorded agent changes)`,
    );
  });
}

interface ScaffoldFlags extends ResolveFlags {
  agent: string;
  model?: string;
  derive?: boolean;
  llm: string;
  baseUrl?: string;
  repairIters: string;
  contractsDir?: string;
  artifactsDir: string;
}

async function scaffold(spec: string, flags: ScaffoldFlags, setExitCode: SetExitCode): Promise<void> {
  const options = {
    targets: [spec],
    llm: flags.llm,
    mode: 'smoke' as const,
    requireSamples: true,
    repairIters: Number(flags.repairIters),
    repairAgent: getAgent(flags.agent),
    repairModel: flags.model,
    derive: flags.derive,
    baseUrl: flags.baseUrl,
    cacheDir: flags.cacheDir,
    contractsDir: flags.contractsDir,
    artifactsDir: flags.artifactsDir,
    offline: flags.offline,
    log: (line: string) => process.stderr.write(`${line}\n`),
  };
  const first = await verifyTarget(spec, options);
  const result = first.ok ? first : await repairTarget(spec, first, options);
  console.log(JSON.stringify(result, undefined, 2));
  setExitCode(result.ok ? 0 : 1);
}

function registerScaffold(target: Command, setExitCode: SetExitCode): void {
  addResolveFlags(
    target
      .command('scaffold')
      .description(
        'Let an agent draft (or fix) the contract, then verify it; the result is unreviewed until `target accept`.',
      )
      .argument('<target>', 'directory, git URL or Hugging Face dataset'),
  )
    .requiredOption('--agent <name>', 'agent harness that writes the contract')
    .option('--model <id>', 'model for the agent')
    .option('--derive', 'draft a contract when there is none')
    .option('--llm <model>', 'model to verify the contract with (gold | empty | a name at --base-url)', 'gold')
    .option('--base-url <url>', 'OpenAI-compatible endpoint for --llm')
    .option('--repair-iters <n>', 'attempts', '3')
    .option('--contracts-dir <dir>', 'contracts for targets you do not own: <dir>/<slug>/contract.yaml')
    .option('--artifacts-dir <dir>', 'where runs write <run_id>/env_api/', 'results/targets')
    .action((spec: string, flags: ScaffoldFlags) => scaffold(spec, flags, setExitCode));
}

export const registerTarget: RegisterCommand = (program, setExitCode) => {
  const target = targetCommand(program);
  registerResolve(target);
  registerHints(target);
  registerValidate(target, setExitCode);
  registerImport(target);
  registerAccept(target);
  registerScaffold(target, setExitCode);
};

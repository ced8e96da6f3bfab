#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { EXIT_CODES, formatProblem, SkillEvalError, TaskFormatError } from '../errors.js';
import { SKILL_EVAL_VERSION } from '../version.js';
import { commands, type RegisterCommand } from './registry.js';

/** The one top-level catch: every error becomes a message and a documented exit code (docs/exit-codes.md). */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('skill-eval')
    .description(
      'Measure whether Agent Skills help coding agents: verified trials, pass rates, normalized gain, confidence intervals.',
    )
    .version(SKILL_EVAL_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  let exitCode: number = EXIT_CODES.ok;
  for (const register of Object.values(commands as Record<string, RegisterCommand>)) {
    register(program, (code) => {
      exitCode = code;
    });
  }
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    return reportError(error);
  }
}

export function reportError(error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander already printed its message; help and version are not errors.
    if (
      error.code === 'commander.helpDisplayed' ||
      error.code === 'commander.version' ||
      error.code === 'commander.help'
    )
      return EXIT_CODES.ok;
    return EXIT_CODES.usage;
  }
  if (error instanceof SkillEvalError) {
    if (error instanceof TaskFormatError) {
      for (const problem of error.problems.filter((p) => p.severity === 'error'))
        console.error(`error: ${formatProblem(problem)}`);
    } else {
      console.error(`error: ${error.message}`);
    }
    if (error.hint) console.error(error.hint);
    return error.exitCode;
  }
  console.error('internal error (please report):', error);
  return EXIT_CODES.infra;
}

const isEntry = process.argv[1] !== undefined && /(?:skill-eval(?:\.js)?|main\.[jt]s)$/.test(process.argv[1]);
if (isEntry) {
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}

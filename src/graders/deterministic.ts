import { mkdirSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { z } from 'zod';
import type { GraderSpec } from '../task/types.js';
import type { Grader, GraderOutcome, GradingContext } from './types.js';

/** A deterministic grader's stdout (skillgrade's contract): the last line that is a JSON object counts. */
export const deterministicOutputSchema = z.object({
  score: z.number().min(0).max(1),
  details: z.string().optional(),
  checks: z.array(z.object({ name: z.string(), passed: z.boolean(), message: z.string().optional() })).optional(),
});

const EXPECTED = 'a JSON object line such as {"score": 0.5, "details": "…", "checks": [{"name": "…", "passed": true}]}';

/** Reads the script's stdout; a problem says what was expected and what was found. */
export function parseDeterministicOutput(
  stdout: string,
): { ok: true; value: GraderOutcome } | { ok: false; problem: string } {
  const lines = stdout
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.startsWith('{') && line.endsWith('}'));
  for (const line of lines.reverse()) {
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch {
      continue;
    }
    const parsed = deterministicOutputSchema.safeParse(data);
    if (parsed.success) return { ok: true, value: parsed.data };
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'the object';
    return {
      ok: false,
      problem: `expected ${EXPECTED}; ${where}: ${issue?.message ?? 'invalid'}, found ${line.slice(0, 200)}`,
    };
  }
  const tail = stdout.trim().split(/\r?\n/).slice(-1)[0] ?? '';
  return {
    ok: false,
    problem: `expected ${EXPECTED} on stdout, found ${tail === '' ? 'no output' : JSON.stringify(tail.slice(0, 200))}`,
  };
}

/**
 * Runs `bash <tests>/<run>` in the environment after the verifier (the tests are still there), as the verifier's
 * user, from the workdir. Its output is kept under `<trialDir>/graders/<name>/`.
 */
export const deterministicGrader: Grader = {
  type: 'deterministic',
  stage: 1,
  async grade(spec: GraderSpec, context: GradingContext): Promise<GraderOutcome> {
    const { workspace, task, redactor } = context;
    const script = posix.join(workspace.paths.tests, spec.run ?? '');
    const timeoutMs = spec.timeoutSec !== undefined ? spec.timeoutSec * 1000 : context.verifierTimeoutMs;
    const result = await workspace.exec(`bash ${script}`, {
      cwd: workspace.paths.workdir,
      env: task.config.verifier.env,
      user: task.config.verifier.user,
      timeoutMs,
      signal: context.signal,
    });
    const dir = join(context.trialDir, 'graders', spec.name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'stdout.txt'), redactor.redact(result.stdout));
    writeFileSync(join(dir, 'stderr.txt'), redactor.redact(result.stderr));
    const file = `tests/${spec.run}`;
    if (result.timedOut) return { error: `${file} did not finish within ${timeoutMs} ms` };
    const parsed = parseDeterministicOutput(result.stdout);
    if (!parsed.ok) return { error: `${file} (exit code ${result.exitCode ?? 'unknown'}): ${parsed.problem}` };
    return parsed.value;
  },
};

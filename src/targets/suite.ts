import {
  type VerifySuiteOptions,
  type VerifySuiteResult,
  type VerifySuiteSummary,
  verifyTarget,
} from './verify-target.js';

export type { CanaryReport, VerifySuiteOptions, VerifySuiteResult, VerifySuiteSummary } from './verify-target.js';
export { verifyTarget } from './verify-target.js';

/** Every target in turn; one failing never stops the others. */
export async function verifySuite(options: VerifySuiteOptions): Promise<VerifySuiteSummary> {
  const started = Date.now();
  const results: VerifySuiteResult[] = [];
  for (const target of options.targets) {
    options.log?.(`== ${target}`);
    let result = await verifyTarget(target, options);
    if (!result.ok && (options.repairIters ?? 0) > 0 && options.repairAgent) {
      const { repairTarget } = await import('./repair.js');
      result = await repairTarget(target, result, options);
    }
    options.log?.(
      `== ${target}: ${result.ok ? `ok, score ${result.metrics?.score}` : `failed at ${result.failed_stage} (${result.failure_code}): ${result.error}`}`,
    );
    results.push(result);
  }
  return {
    schema: 'skill-eval/verify-suite@1',
    ok: results.length > 0 && results.every((r) => r.ok),
    llm: options.llm,
    mode: options.mode,
    require_samples: options.requireSamples,
    started_at: new Date(started).toISOString(),
    duration_ms: Date.now() - started,
    results,
  };
}

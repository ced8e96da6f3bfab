import { join } from 'node:path';
import { InfraError } from '../../errors.js';
import type { StageFailure } from '../stages.js';

/** A setup-time stage (bootstrap, setup, health) failed: what failed, why, and where the logs are. */
export class TargetStageError extends InfraError {
  readonly stage: string;
  readonly code: string;
  readonly failure: StageFailure;
  readonly artifactsDir: string;
  constructor(failure: StageFailure, artifactsDir: string) {
    super(`${failure.stage} failed: ${failure.message}`, {
      retryable: false,
      hint: `stage logs: ${join(artifactsDir, 'logs')}`,
    });
    this.stage = failure.stage;
    this.code = failure.code;
    this.failure = failure;
    this.artifactsDir = artifactsDir;
  }
}

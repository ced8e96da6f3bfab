import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createDockerProvider } from '../../src/environments/docker.js';
import type { EnvironmentProvider } from '../../src/environments/types.js';
import { lifecycleRules } from '../trial/lifecycle.js';
import { engineGate, IN_CI, makeTask, uniqueId } from './docker-engine.js';

/** Whether the engine has gVisor registered as `runsc` (scripts/setup/gvisor.sh); why not, otherwise. */
function gvisorReadiness(): { ok: boolean; reason: string } {
  try {
    const runtimes = execFileSync('docker', ['info', '--format', '{{json .Runtimes}}'], { encoding: 'utf8' });
    if (runtimes.includes('"runsc"')) return { ok: true, reason: '' };
    return { ok: false, reason: 'the engine has no runsc runtime; run `sudo bash scripts/setup/gvisor.sh`' };
  } catch (error) {
    return { ok: false, reason: `docker info failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

const engine = await engineGate('the Docker provider under gVisor (--runtime=runsc)');
const gvisor = engine ? gvisorReadiness() : { ok: false, reason: 'no engine' };
if (engine && !gvisor.ok && !IN_CI)
  console.warn(`\n*** SKIPPING the gVisor tests: ${gvisor.reason} (CI=true makes this a failure). ***\n`);
const runs = engine && (gvisor.ok || IN_CI);

describe.runIf(runs)('the Docker provider under gVisor (--runtime=runsc)', () => {
  let provider: EnvironmentProvider | undefined;
  const gvisorProvider = (): EnvironmentProvider => (provider ??= createDockerProvider({ runtime: 'runsc' }));

  it('runs the trial container under gVisor and records the runtime in its limits', async () => {
    const task = await makeTask(uniqueId('runsc'), {
      'environment/Dockerfile': 'FROM skill-eval/base:bookworm\nWORKDIR /app\n',
    });
    const prepared = await gvisorProvider().prepare(task, {
      jobId: uniqueId('runsc-job'),
      forceBuild: false,
      log: () => {},
    });
    const workspace = await gvisorProvider().createWorkspace(prepared, {
      jobId: 'runsc',
      trialId: uniqueId('t'),
      trialName: 'runsc',
    });
    try {
      const kernel = await workspace.exec('dmesg | head -n 1');
      expect(kernel.stdout).toContain('Starting gVisor');
      expect(workspace.limits.runtime).toBe('runsc');
    } finally {
      await workspace.dispose();
    }
  });

  it('refuses a runtime the engine does not know before any trial', async () => {
    await expect(createDockerProvider({ runtime: 'no-such-runtime' }).preflight()).rejects.toThrow(
      '--runtime no-such-runtime: the Docker engine has no runtime "no-such-runtime"',
    );
  });

  // Every rule of the trial lifecycle (isolation, tamper and secrets included) holds under gVisor too.
  lifecycleRules(gvisorProvider);
});

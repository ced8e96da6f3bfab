/**
 * A skill-eval process for tests/environments/docker-cleanup.test.ts: opens a Docker workspace and hangs in an
 * exec until killed. Argv: jobId taskDir mode, where mode `signal` installs the SIGINT/SIGTERM cleanup.
 */
import { createDockerProvider, installSignalCleanup } from '../../src/environments/docker.js';
import { loadTaskOrThrow } from '../../src/task/load.js';

const [jobId, taskDir, mode] = process.argv.slice(2);
if (!jobId || !taskDir) throw new Error('usage: docker-child.fixture.ts jobId taskDir [signal]');
if (mode === 'signal') installSignalCleanup();
const provider = createDockerProvider();
const task = await loadTaskOrThrow(taskDir);
const prepared = await provider.prepare(task, { jobId, forceBuild: false, log: () => undefined });
const workspace = await provider.createWorkspace(prepared, { jobId, trialId: 'child', trialName: 'child' });
await workspace.exec('echo started; sleep 300', {
  onStdout: (chunk) => {
    if (chunk.includes('started')) console.log(`READY ${workspace.id}`);
  },
});

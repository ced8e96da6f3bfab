import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Three projects, by what a test file needs and what it costs:
 * - integration: it starts something a contributor may not have — a Docker engine, Chromium, tmux, an agent CLI
 *   (Claude Code, Codex, Gemini CLI, OpenCode) — or needs the npm registry;
 * - e2e: it needs nothing external but runs the real CLI in child processes, dozens of times (about a second of CPU
 *   each) or for minutes;
 * - unit: everything else, in process, about a minute on two cores (`pnpm run test:unit`).
 * Files are named one by one: a new test file is a unit test unless it is added to a list here.
 * `pnpm test` runs all three.
 */
export const INTEGRATION = [
  // Docker engine
  'tests/environments/docker.test.ts',
  'tests/environments/docker-cleanup.test.ts',
  'tests/environments/docker-runsc.test.ts', // gVisor (scripts/setup/gvisor.sh)
  'tests/trial/run-trial-docker.test.ts',
  'tests/trial/secret-forms-docker.test.ts',
  'tests/agents/docker.test.ts',
  'tests/init/template-docker.test.ts',
  'tests/regrade/regrade-docker.test.ts',
  'tests/graders/docker.test.ts',
  'tests/evalyaml/run-docker.test.ts',
  // agent CLIs against scripted model servers (and in Docker)
  'tests/agents/claude.test.ts',
  'tests/agents/codex.test.ts',
  'tests/agents/gemini.test.ts',
  'tests/agents/opencode.test.ts',
  'tests/agents/command.test.ts', // and in Docker
  'tests/agents/acp/agent.test.ts', // a real ACP agent from npm (and in Docker)
  'tests/agents/acp/bridge.test.ts', // the bridge (from npm) against a tiny SDK agent, in the sandbox
  'tests/cli/eval-agents.test.ts',
  'tests/cli/eval-arms.test.ts', // Claude Code, four arms (--arms)
  'tests/cli/eval-budget.test.ts', // Claude Code through the gateway: --max-cost-per-trial, --max-cost, resume
  'tests/cli/skill-first.test.ts', // Claude Code on a skillgrade eval.yaml, both arms, a scripted judge
  'tests/init/draft.test.ts',
  // Chromium (always, or whenever it is installed)
  'tests/cli/analyze-html.test.ts',
  'tests/targets/drivers/browser.test.ts',
  'tests/targets/drivers/browser-tasks.test.ts',
  'tests/targets/verify-suite.test.ts',
  'tests/view/view-browser.test.ts', // skill-eval view: the server, the pages and the bundle in headless Chromium
  'tests/view/view-runs-browser.test.ts', // benchmark runs and browser-episode evidence in the viewer, in Chromium
  // bubblewrap (the local provider's sandbox)
  'tests/environments/local-sandbox.test.ts',
  // Slurm (scripts/setup/slurm.sh starts a single-node cluster)
  'tests/submit/slurm-cluster.test.ts',
  // the model gateway's route out of offline sandboxes (bubblewrap and Docker)
  'tests/gateway/forwarder-route.test.ts',
  'tests/gateway/trial-docker.test.ts', // the four CLIs through their gateways in Docker, offline
  'tests/gateway/trial-agents.test.ts', // the four CLIs through their gateways (bubblewrap)
  'tests/gateway/trial-stops.test.ts', // budgets, retries, replay, auth with Claude Code
  // tmux
  'tests/jobs/cancel.test.ts',
  'tests/jobs/progress-tty.test.ts',
  // npm pack + install from the registry
  'tests/package/**/*.test.ts',
];

export const E2E = [
  'tests/cli/eval.test.ts',
  'tests/cli/exit-codes.test.ts',
  'tests/cli/regrade.test.ts',
  'tests/cli/agents.test.ts',
  'tests/cli/tasks-check.test.ts',
  'tests/cli/init.test.ts',
  'tests/cli/eval-flags.test.ts',
  'tests/cli/tasks-convert.test.ts',
  'tests/cli/eval-yaml.test.ts',
  'tests/cli/test-bootstrap.test.ts',
  'tests/targets/import-pipeline.test.ts',
  'tests/jobs/kill-resume.test.ts', // 20 × kill -9 and resume
  'tests/cli/workers.test.ts', // several evals and workers on one job, kill -9 of one
  'tests/cli/train-and-benchmark.test.ts', // training sweeps with a fixture trainer and model server, kill -9
];

/** What the projects share. The global setup stays on the root alone: vitest runs it once for the whole run. */
const shared = { testTimeout: 60_000, hookTimeout: 300_000 };

export default defineConfig({
  test: {
    // One temp root per run, removed at the end (tests/helpers/temp-root.ts).
    globalSetup: ['tests/helpers/temp-root.ts'],
    // Trials spawn real processes and containers; two cores are shared by every worker.
    maxWorkers: 2,
    minWorkers: 1,
    projects: [
      {
        test: {
          ...shared,
          name: 'unit',
          include: ['tests/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...INTEGRATION, ...E2E],
        },
      },
      { test: { ...shared, name: 'e2e', include: E2E } },
      { test: { ...shared, name: 'integration', include: INTEGRATION } },
    ],
  },
});

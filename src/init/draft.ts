import { randomBytes } from 'node:crypto';
import { chmod, cp, mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { getAgent } from '../agents/registry.js';
import { createLocalProvider } from '../environments/local.js';
import type { PreparedEnvironment } from '../environments/types.js';
import type { TrialResult } from '../results/schema.js';
import { EVALS_DIR } from '../skills/find.js';
import type { Skill } from '../skills/types.js';
import { loadTaskOrThrow } from '../task/load.js';
import { runTrial } from '../trial/run-trial.js';
import type { Redactor } from '../util/secrets.js';
import { BASE_IMAGE } from './template.js';

/**
 * `skill-eval init` with an agent: one trial-like session of that agent (our harness, the real lifecycle, the local
 * provider) in a workspace holding a copy of the skill, asked to write N tasks into `drafts/`. The session is a
 * synthetic task whose verifier copies `drafts/` into the collected artifacts, so the drafts come out the way every
 * trial's files do (redacted, links checked) and the session is recorded like any trial.
 */

/** What the drafting session may take. Writing several tasks with solutions is longer than most tasks. */
export const DRAFT_TIMEOUT_SEC = 1800;

/** Files of the skill folder that never go into the drafting workspace. */
const NOT_COPIED = new Set([EVALS_DIR, '.env', '.git', 'node_modules']);

export function draftInstruction(skill: Pick<Skill, 'name'>, count: number): string {
  return `You are helping to evaluate an Agent Skill, the one in ./skill/ (its SKILL.md and the files it refers to).
Read it first. Then create ${count} evaluation tasks for it in ./drafts/, one folder per task:
drafts/<task-name>/, the name in lowercase letters, digits and hyphens.

Each task is a realistic job that a user who has never heard of the skill could ask a coding agent to do, and that
the skill (${skill.name}) should help with: its workflow, its conventions, its scripts. Each task folder holds:

- task.toml: schema_version = "1.1"; a [task] table with name (the folder name) and a one-line description;
  [agent] timeout_sec = 600; [verifier] timeout_sec = 120; [environment] allow_internet = false.
- instruction.md: what the user asks, as the user would say it. State the outcome (which files, what must hold),
  not the steps. Never name the skill and never hint that a skill or guide exists: the evaluation measures whether
  the agent finds and uses the skill by itself. Paths are relative to the working directory, /app.
- environment/Dockerfile: FROM ${BASE_IMAGE}, WORKDIR /app, and COPY app/ /app/ when the task has input files
  (put them in environment/app/). The image has bash, coreutils, git, python3 and node; nothing else is installed.
- tests/test.sh: a deterministic bash check that runs in /app after the agent. It writes 1 to
  /logs/verifier/reward.txt when the outcome is right and 0 otherwise, prints why, and exits 0 either way. Write
  /logs/verifier with that literal path. It must fail (write 0) on the untouched environment.
- solution/solve.sh: a bash script that, run in /app on the untouched environment, produces the outcome so that
  tests/test.sh writes 1.

Do not copy the skill into the tasks. When you are done, list the task folders you created.
`;
}

/** The verifier of the drafting session: hands drafts/ over as artifacts; rewards at least one task.toml. */
const COLLECT_DRAFTS = `#!/usr/bin/env bash
set -uo pipefail
mkdir -p /logs/verifier /logs/artifacts
echo 0 >/logs/verifier/reward.txt
if [[ -d drafts ]]; then
  cp -R drafts /logs/artifacts/drafts
  ls drafts/*/task.toml >/dev/null 2>&1 && echo 1 >/logs/verifier/reward.txt
fi
ls -R drafts 2>/dev/null | head -200
`;

/** Writes the drafting session's task: the instruction, the skill in environment/skill, the collecting verifier. */
async function writeDraftingTask(dir: string, skill: Skill, count: number): Promise<void> {
  await mkdir(join(dir, 'tests'), { recursive: true });
  await mkdir(join(dir, 'environment'), { recursive: true });
  await writeFile(
    join(dir, 'task.toml'),
    `schema_version = "1.1"\n\n[task]\nname = "draft-${skill.name}"\n\n[agent]\ntimeout_sec = ${DRAFT_TIMEOUT_SEC}\n\n[verifier]\ntimeout_sec = 120\n`,
  );
  await writeFile(join(dir, 'instruction.md'), draftInstruction(skill, count));
  await writeFile(join(dir, 'environment', 'Dockerfile'), 'WORKDIR /app\nCOPY skill/ /app/skill/\n');
  await cp(skill.dir, join(dir, 'environment', 'skill'), {
    recursive: true,
    filter: (source) => source === skill.dir || !NOT_COPIED.has(basename(source)) || !isTopLevel(skill.dir, source),
  });
  await writeFile(join(dir, 'tests', 'test.sh'), COLLECT_DRAFTS);
  await chmod(join(dir, 'tests', 'test.sh'), 0o755);
}

function isTopLevel(root: string, path: string): boolean {
  return join(root, basename(path)) === path;
}

export interface DraftOptions {
  skill: Skill;
  agent: string;
  model?: string | undefined;
  count: number;
  /** Where the drafting task and its session go (a fresh directory). */
  workDir: string;
  env: Record<string, string>;
  redactor: Redactor;
  signal?: AbortSignal | undefined;
  agentTimeoutSec?: number | undefined;
  log?: ((line: string) => void) | undefined;
}

export interface DraftSession {
  /** The drafted task folders' parent (may not exist when the agent wrote nothing). */
  draftsDir: string;
  /** The session's trial directory: session.jsonl, result.json, agent/ logs. */
  trialDir: string;
  result: TrialResult;
}

/** Runs the drafting session. Throws only what a trial throws (cancel); the agent's failure is in the result. */
export async function draftTasks(options: DraftOptions): Promise<DraftSession> {
  const agent = getAgent(options.agent);
  const log = options.log ?? (() => {});
  const taskDir = join(options.workDir, 'drafting-task');
  await writeDraftingTask(taskDir, options.skill, options.count);
  const task = await loadTaskOrThrow(taskDir);
  await agent.install?.({ signal: options.signal, log });
  const provider = createLocalProvider();
  const jobId = `init-${randomBytes(3).toString('hex')}`;
  let prepared: Promise<PreparedEnvironment> | undefined;
  const trialDir = join(options.workDir, 'session');
  const result = await runTrial(
    { jobId, task, agent, model: options.model, arm: 'no-skills', trialIndex: 1 },
    {
      provider,
      prepare: () => (prepared ??= provider.prepare(task, { jobId, forceBuild: false, log })),
      trialDir,
      env: options.env,
      redactor: options.redactor,
      signal: options.signal,
      agentTimeoutSec: options.agentTimeoutSec,
    },
  );
  return { draftsDir: join(trialDir, 'artifacts', 'drafts'), trialDir, result };
}

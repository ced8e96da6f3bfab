/**
 * The commented task template `skill-eval init` writes when no agent drafts tasks: one Harbor task whose every
 * file says what it is for. It is a working task as written (the oracle passes, nop fails, `tasks validate` is
 * clean), so the author can run it at once and then replace its content with the skill's real job.
 */

/** Where the template's files go, relative to the task directory, with their content and mode. */
export interface TemplateFile {
  path: string;
  content: string;
  executable?: boolean | undefined;
}

export const TEMPLATE_TASK_NAME = 'example-task';

/** The base image of our demo tasks (scripts/build-base-image.sh builds it offline). */
export const BASE_IMAGE = 'skill-eval/base:bookworm';

function taskToml(skill: string, task: string): string {
  return `# task.toml: how skill-eval (and Harbor) runs this task. Reference: docs/task-format.md.
# Every key below is optional except schema_version; the values shown are sensible starting points.

# The Harbor dialect of task.toml.
schema_version = "1.1"

[task]
# Shown in reports; the folder name (${task}) is what you type on the command line.
name = "${task}"
# One sentence for humans: what the task exercises. Agents never see task.toml.
description = "An example task for the ${skill} skill: replace it with a real job the skill should help with."
keywords = ["${skill}"]

[agent]
# Seconds the agent gets before it is stopped (the verifier still runs afterwards).
timeout_sec = 600

[verifier]
# Seconds tests/test.sh may run.
timeout_sec = 120

[environment]
# Resources of the Docker container (the local provider reports them as not enforced).
cpus = 1
memory_mb = 2048
# false: no network inside the container (the agent's model API still works). Keep tasks offline when you can:
# the result then depends on the skill, not on what the agent finds online.
allow_internet = false

# Graders (optional). Without any [[graders]] table the task has one implicit grader, tests/test.sh, weight 1.
# With graders, the trial's reward is the weighted mean of their scores. Every file a grader needs lives under
# tests/, so the agent never sees it.
#
# [[graders]]
# type = "verifier"                 # tests/test.sh -> /logs/verifier/reward.txt
# name = "tests"
# weight = 0.7
#
# [[graders]]
# type = "llm_rubric"               # a model judges the agent's work against a rubric (needs a judge API key)
# name = "approach"
# rubric = "graders/rubric.md"      # relative to tests/
# weight = 0.3
# # model = "claude-sonnet-4-5"     # else eval's --grader-model, else the provider's default
`;
}

function instruction(): string {
  return `<!--
  instruction.md: exactly what the agent is told. Write it as a user with a real need would:
  - state the outcome (which file, which result, what must hold), not the steps;
  - do NOT name the skill or hint at it: the evaluation measures whether the agent finds and uses the skill by
    itself (the same instruction runs with and without the skill, and the difference is the skill's gain);
  - say where the inputs are, relative to the working directory (/app);
  - everything tests/test.sh checks should follow from this text.
  This HTML comment is part of what the agent sees: delete it when you write the real instruction.
-->
Create a file named \`greeting.txt\` in the current directory containing exactly one line: \`hello from the example task\`.
`;
}

function dockerfile(): string {
  return `# environment/Dockerfile: the machine the agent works in (one fresh container per trial).
# ${BASE_IMAGE} is skill-eval's offline base image (Debian bookworm with bash, coreutils, git, nodejs,
# python3), built by scripts/build-base-image.sh. To use another image, change FROM (any Debian-like image with
# bash works, e.g. debian:bookworm-slim or python:3.12-slim), or set [environment].docker_image in task.toml
# instead of this file. The local provider does not run this file: it only reproduces WORKDIR, ENV and COPY.
FROM ${BASE_IMAGE}

# The agent starts here; the tests run here too.
WORKDIR /app

# Put the task's input files into environment/app/ and copy them in (never copy tests/ or solution/):
# COPY app/ /app/
`;
}

function testScript(): string {
  return `#!/usr/bin/env bash
# tests/test.sh: the verifier. Runs after the agent, in the working directory (/app), and decides the reward:
# write 1 (pass) or 0 (fail) to /logs/verifier/reward.txt (or a number between 0 and 1). Keep it deterministic:
# the same files must always get the same reward. Exit 0 even when the check fails: a non-zero exit or a missing
# reward file is a verifier error, not a failure. What it prints is kept in the trial's verifier/ folder.
set -uo pipefail

mkdir -p /logs/verifier
echo 0 >/logs/verifier/reward.txt

expected='hello from the example task'
if [[ ! -f greeting.txt ]]; then
  echo "FAIL: greeting.txt does not exist"
  exit 0
fi
if [[ $(cat greeting.txt) != "$expected" ]]; then
  echo "FAIL: greeting.txt should contain '$expected', found '$(head -c 200 greeting.txt)'"
  exit 0
fi
echo 1 >/logs/verifier/reward.txt
echo "PASS"
`;
}

function solveScript(): string {
  return `#!/usr/bin/env bash
# solution/solve.sh: the reference solution. The oracle agent runs it instead of a model
# (skill-eval tasks check: the oracle must pass, nop - doing nothing - must fail). No agent ever sees it.
set -euo pipefail

printf 'hello from the example task\\n' >greeting.txt
`;
}

function rubric(skill: string): string {
  return `# Rubric (for an llm_rubric grader; see the commented [[graders]] example in task.toml)

A judge model reads the agent's session and scores it between 0 and 1 against these points. Write what a
reviewer who knows the ${skill} skill would look for, point by point, each observable in the session:

- The agent followed the workflow the skill documents (name its steps).
- The agent checked its result before finishing.
- The agent did not change files it was not asked to change.
`;
}

function readme(skill: string, task: string): string {
  return `# Evaluation tasks for the ${skill} skill

Each folder here is one task in the Harbor format (docs/task-format.md). \`skill-eval init\` wrote
\`${task}/\` as a starting point: every file in it explains itself. Replace its content with a real job the skill
should help with, copy it for more tasks (3 to 5 realistic ones make a useful first evaluation), then:

    skill-eval tasks validate evals          # the format
    skill-eval tasks check evals --provider=local   # the oracle passes, doing nothing fails
    skill-eval eval --smoke                  # here: with and without the skill, the gain and its interval

Rules of thumb: instruction.md states the outcome and never names the skill; tests/test.sh is deterministic;
solution/solve.sh proves the task can be solved; everything the verifier needs lives under tests/.
`;
}

/** The template's files for a skill, with the task folder's name. */
export function templateFiles(skill: string, task: string = TEMPLATE_TASK_NAME): TemplateFile[] {
  return [
    { path: 'task.toml', content: taskToml(skill, task) },
    { path: 'instruction.md', content: instruction() },
    { path: 'environment/Dockerfile', content: dockerfile() },
    { path: 'tests/test.sh', content: testScript(), executable: true },
    { path: 'tests/graders/rubric.md', content: rubric(skill) },
    { path: 'solution/solve.sh', content: solveScript(), executable: true },
  ];
}

/** The README of the evals folder (written next to the task folders). */
export function evalsReadme(skill: string, task: string = TEMPLATE_TASK_NAME): string {
  return readme(skill, task);
}

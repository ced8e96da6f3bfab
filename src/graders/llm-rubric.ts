import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { AgentEvent } from '../agents/types.js';
import { completeJson } from '../models/json-answer.js';
import type { GraderSpec } from '../task/types.js';
import { writeJsonAtomicSync } from '../util/atomic-write.js';
import { resolveJudge, sameFamilyWarning } from './judge.js';
import type { Grader, GraderOutcome, GraderResult, GradingContext } from './types.js';
import { describeDiff } from './workspace-diff.js';

/** The judge's answer. */
export const judgeAnswerSchema = z.object({ score: z.number().min(0).max(1), reasoning: z.string() });

const SYSTEM = [
  'You grade the work of a coding agent against a rubric.',
  'You are shown the task instruction, the rubric, what the agent did (its transcript), what it changed in its',
  'working directory, and the results of the other graders. Judge only what the rubric asks.',
  'Answer with one JSON object and nothing else: {"score": <a number from 0 to 1>, "reasoning": "<one short paragraph>"}.',
].join(' ');

/** Bounds on what the judge reads (characters): a long transcript keeps its head and its tail. */
const TRANSCRIPT_CHARS = 40_000;
const EVENT_CHARS = 1500;
const DIFF_CHARS = 30_000;

function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const half = Math.floor(max / 2);
  return `${text.slice(0, half)}\n… [${text.length - max} characters left out] …\n${text.slice(-half)}`;
}

function describeEvent(event: AgentEvent): string | undefined {
  switch (event.type) {
    case 'command':
      return `$ ${event.command}${event.exitCode !== undefined ? `  (exit ${event.exitCode})` : ''}${event.stdout ? `\n${event.stdout}` : ''}${event.stderr ? `\n[stderr] ${event.stderr}` : ''}`;
    case 'tool_call':
      return `[tool ${event.tool}] ${JSON.stringify(event.input ?? {})}${event.output ? `\n→ ${event.output}` : ''}`;
    case 'message':
      return `[${event.role}] ${event.text}`;
    case 'skill':
      return `[skill opened] ${event.skill} (${event.how})`;
    case 'error':
      return `[error] ${event.message}`;
  }
}

/** The agent's commands, tool calls and messages, in order, bounded. */
export function describeTranscript(events: readonly AgentEvent[] | undefined, finalMessage?: string): string {
  if (!events || events.length === 0)
    return finalMessage ? `[final message] ${finalMessage}` : '(the agent reported no transcript)';
  const lines = events
    .map(describeEvent)
    .filter((line) => line !== undefined)
    .map((line) => clip(line, EVENT_CHARS));
  if (finalMessage) lines.push(`[final message] ${clip(finalMessage, EVENT_CHARS)}`);
  return clip(lines.join('\n'), TRANSCRIPT_CHARS);
}

function describeEarlier(earlier: readonly GraderResult[]): string {
  if (earlier.length === 0) return '(none)';
  return earlier
    .map(
      (r) =>
        `- ${r.name} (${r.type}, weight ${r.weight}): ${r.score !== undefined ? `score ${r.score}` : `failed: ${r.error}`}${r.details ? `; ${r.details}` : ''}`,
    )
    .join('\n');
}

export function judgePrompt(rubric: string, context: GradingContext): string {
  const result = context.agent.result;
  return [
    '# Task instruction (what the agent was asked)',
    context.task.instruction.trim(),
    '# Rubric (what to grade)',
    rubric.trim(),
    '# Transcript (what the agent did)',
    describeTranscript(result?.events, result?.finalMessage),
    '# Workspace changes (files in the working directory, before the agent vs after it)',
    clip(describeDiff(context.diff), DIFF_CHARS),
    '# Other graders',
    describeEarlier(context.earlier),
    '# Your answer',
    'One JSON object: {"score": 0..1, "reasoning": "…"}',
  ].join('\n\n');
}

/**
 * The judge runs on the host: the key never reaches the sandbox. Every call (request and response) is kept,
 * redacted, in `<trialDir>/graders/<name>/judge.json`. Any failure is the grader's error, never a 0.
 */
export const llmRubricGrader: Grader = {
  type: 'llm_rubric',
  stage: 2,
  async grade(spec: GraderSpec, context: GradingContext): Promise<GraderOutcome> {
    const resolution = resolveJudge(spec, context.judge);
    if (!resolution.ok) return { error: resolution.message };
    const { judge } = resolution;
    const model = `${judge.provider}/${judge.model}`;
    const warning = sameFamilyWarning(context.agent, judge);
    const rubric = readFileSync(join(context.task.paths.testsDir, spec.rubric ?? ''), 'utf8');
    // What leaves the host is redacted too: the transcript may quote a key.
    const prompt = context.redactor.redact(judgePrompt(rubric, context));
    const answer = await completeJson({ ...judge, system: SYSTEM, prompt, signal: context.signal }, judgeAnswerSchema);
    const dir = join(context.trialDir, 'graders', spec.name);
    mkdirSync(dir, { recursive: true });
    const record = {
      grader: spec.name,
      provider: judge.provider,
      model: judge.model,
      base_url: judge.baseUrl,
      key_variable: judge.keyVariable,
      system: SYSTEM,
      attempts: answer.attempts,
      answer: answer.ok ? answer.value : undefined,
      usage: answer.ok ? answer.usage : undefined,
      error: answer.ok ? undefined : answer.message,
    };
    writeJsonAtomicSync(join(dir, 'judge.json'), context.redactor.redactValue(record));
    if (!answer.ok) return { error: `judge ${model}: ${answer.message}`, model, warning };
    return { score: answer.value.score, details: answer.value.reasoning, model, warning };
  },
};

import type { AnalysisReport } from '../analytics/report.js';

/**
 * What the viewer's server (and the static bundle) hands the front-end: plain JSON, computed once per job on the
 * server so the browser never reads trial files itself. Shared by src/view/* and src/view/app/* (no Node imports).
 */

export const VIEW_SCHEMA = 'skill-eval/view@1';

/** Where a job came from: one of ours (a job directory), trial directories without job.json, or original reports. */
export type JobKind = 'job' | 'trials' | 'legacy';

export interface JobListEntry {
  /** URL-safe, unique among the jobs served: the job directory's name, suffixed when two share one. */
  key: string;
  kind: JobKind;
  /** Absolute directory (or, for original reports, the directory holding them). */
  dir: string;
  jobId?: string | undefined;
  createdAt?: string | undefined;
  tasks: string[];
  /** `agent` or `agent · model`. */
  configs: string[];
  arms: string[];
  planned?: number | undefined;
  finished: number;
  running: number;
  /** Per arm: passed / counted trials (errors excluded), as in summary.json. */
  passRates: Record<string, { passed: number; counted: number }>;
  errors: number;
  /** The job is complete: summary.json lists the reports (or it is a static set of trials/reports). */
  complete: boolean;
}

export interface JobsView {
  schema: typeof VIEW_SCHEMA;
  generatedAt: string;
  roots: string[];
  jobs: JobListEntry[];
  /** Benchmark target runs (directories holding rollout.json), newest first. */
  runs: RunListEntry[];
  /** Directories that could not be read, each with why. */
  problems: Array<{ file: string; reason: string }>;
}

/** One trial in a job's list: enough for the grid, the filters and the side-by-side chooser. */
export interface TrialRow {
  /** The trial directory's name (for original reports: a name made from task, arm and trial id). */
  name: string;
  task: string;
  agent: string;
  model?: string | undefined;
  arm: string;
  /** `running` while the trial directory has no result.json yet. */
  status: string;
  /** The phase a running trial is in (its session log's last `phase` start). */
  phase?: string | undefined;
  reward?: number | undefined;
  durationMs?: number | undefined;
  tokens?: number | undefined;
  costUsd?: number | undefined;
  /** Agent commands + tool calls (result.json agent_result). */
  steps?: number | undefined;
  /** The trial opened a skill: reported by the agent, or seen by the isolation audit. */
  skillOpened?: boolean | undefined;
  error?: string | undefined;
  index?: number | undefined;
}

export interface JobView {
  schema: typeof VIEW_SCHEMA;
  entry: JobListEntry;
  /** job.json as written (absent for trial directories and reports). */
  job?: Record<string, unknown> | undefined;
  /** The statistics, exactly what `skill-eval analyze DIR --json` computes for this job's directory. */
  report: AnalysisReport;
  trials: TrialRow[];
  /** Changes whenever a trial appears, finishes or changes phase: the front-end's poll compares it. */
  version: string;
}

/** A text too long to ship whole: its first characters and how long the whole was. */
export interface Clipped {
  text: string;
  /** Characters in the whole text, when it was cut. */
  full?: number | undefined;
}

export type StepKind =
  | 'instruction'
  | 'phase'
  | 'skills'
  | 'command'
  | 'tool_call'
  | 'message'
  | 'agent_result'
  | 'verifier'
  | 'reward'
  | 'grader'
  | 'note'
  | 'other';

/** One entry of the timeline (one session.jsonl line), ready to show. */
export interface Step {
  /** Line number in session.jsonl (1-based), for the link to the raw file. */
  line: number;
  kind: StepKind;
  /** Milliseconds since the trial's first entry. */
  t?: number | undefined;
  /** Own duration when known (commands, verifier, phases, graders). */
  durationMs?: number | undefined;
  /** What it was: command text, tool name, phase name, message role, … */
  title: string;
  source?: string | undefined;
  input?: Clipped | undefined;
  output?: Clipped | undefined;
  stderr?: Clipped | undefined;
  exitCode?: number | undefined;
  isError?: boolean | undefined;
  /** Tokens the entry reports (agent_result usage). */
  tokens?: number | undefined;
  /** A skill was opened here: which one and how (a Skill tool call, a command reading SKILL.md, a note). */
  skill?: { name: string; how: string } | undefined;
  /** An agent action (a command of the agent or a tool call): what the side-by-side view aligns. */
  action?: boolean | undefined;
}

export interface RawFile {
  /** Relative to the trial directory, `/`-separated. */
  path: string;
  bytes: number;
}

export interface TrialView {
  schema: typeof VIEW_SCHEMA;
  jobKey: string;
  row: TrialRow;
  /** result.json as written (absent while the trial runs, and for original reports). */
  result?: Record<string, unknown> | undefined;
  /** config.json as written. */
  config?: Record<string, unknown> | undefined;
  instruction?: Clipped | undefined;
  steps: Step[];
  /** Lines of session.jsonl beyond what is shipped (a huge log). */
  omittedSteps: number;
  /** The verifier's stdout/stderr (from the session log, or verifier/test-stdout.txt). */
  verifier?: { stdout?: Clipped | undefined; stderr?: Clipped | undefined; exitCode?: number | undefined } | undefined;
  files: RawFile[];
}

/** A benchmark target's run (`<artifacts>/<run_id>/env_api/`, the directory holding rollout.json). */
export interface RunListEntry {
  /** URL-safe, unique among the runs served. */
  key: string;
  dir: string;
  runId?: string | undefined;
  target?: string | undefined;
  model?: string | undefined;
  mode?: string | undefined;
  driver?: string | undefined;
  startedAt?: string | undefined;
  samples: number;
  /** The rollout succeeded (rollout.json `ok`). */
  rolloutOk: boolean;
  /** metrics.json exists: the run was evaluated. */
  evaluated: boolean;
  /** metrics.json `ok` and `score`, `primary_metric`. */
  evaluationOk?: boolean | undefined;
  score?: number | undefined;
  primaryMetric?: string | undefined;
  /** The first failure (rollout's, else evaluation's): its code and message. */
  failure?: string | undefined;
}

/** One sample (one browser episode) in a run's list. */
export interface SampleRow {
  /** Its place among samples.jsonl's readable lines, 1-based: the sample page's address. */
  line: number;
  id?: string | undefined;
  index?: number | undefined;
  seed?: number | undefined;
  group?: string | undefined;
  page?: string | undefined;
  reward?: number | undefined;
  success?: boolean | undefined;
  correct?: boolean | undefined;
  steps?: number | undefined;
  endedBy?: string | undefined;
  errorCode?: string | undefined;
  error?: string | undefined;
  durationMs?: number | undefined;
  /** The episode's evidence directory, relative to the run directory (browser). */
  evidenceDir?: string | undefined;
  /** The completion's first characters. */
  completion?: string | undefined;
}

export interface RunView {
  schema: typeof VIEW_SCHEMA;
  entry: RunListEntry;
  rollout?: Record<string, unknown> | undefined;
  metrics?: Record<string, unknown> | undefined;
  target?: Record<string, unknown> | undefined;
  samples: SampleRow[];
  /** Lines of samples.jsonl beyond what is shipped. */
  omittedSamples: number;
  /** Lines of samples.jsonl that are not JSON objects. */
  badLines: number;
  files: RawFile[];
  /** Changes whenever rollout.json, metrics.json or samples.jsonl does. */
  version: string;
}

/** One model turn of a browser episode: what the model was shown, what it answered, the page after its actions. */
export interface EpisodeStep {
  step: number;
  at?: string | undefined;
  /** The observation (the last message sent). */
  observation?: Clipped | undefined;
  /** Screenshots sent with it (logged as `[screenshot]`). */
  imagesSent: number;
  reply?: Clipped | undefined;
  error?: string | undefined;
  /** `step-<n>.png` of the evidence, relative to the run directory. */
  screenshot?: string | undefined;
}

export interface SampleView {
  schema: typeof VIEW_SCHEMA;
  runKey: string;
  row: SampleRow;
  /** The sample line as written, long texts cut. */
  sample: Record<string, unknown>;
  prompt?: Clipped | undefined;
  completion?: Clipped | undefined;
  actions: unknown[];
  steps: EpisodeStep[];
  /** trace.zip (or trace.omitted.txt) relative to the run directory. */
  trace?: string | undefined;
  traceOmitted?: boolean | undefined;
  /** The evidence directory's files, relative to the run directory. */
  files: RawFile[];
}

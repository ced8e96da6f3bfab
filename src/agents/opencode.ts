import { posix } from 'node:path';
import { z } from 'zod';
import { estimateCost } from '../gateway/prices.js';
import { baseUrl, requireKey } from './cli/env.js';
import { type AgentPackage, ensureInstalledOutsideTrial } from './cli/install.js';
import type { RunRecorder } from './cli/recorder.js';
import { provideRipgrep } from './cli/ripgrep.js';
import { cliCommand, finishRun, locateCli, newRecorder, runCli } from './cli/run.js';
import { parseEvent, parseJsonLine } from './cli/stream.js';
import type { Agent, AgentRunContext, AgentRunResult, Usage } from './types.js';

/**
 * OpenCode (`opencode-ai`), headless: `opencode run --format json --auto -m skill-eval/<model>`, the prompt on
 * stdin. The model comes from one OpenAI-compatible (Chat Completions) provider in a config file named by
 * OPENCODE_CONFIG (OPENAI_BASE_URL, or api.openai.com). Its global config dir is pre-seeded so it does not
 * npm-install its plugin package in the background, and it gets a ripgrep it would otherwise download.
 * Skills: `.agents/skills/<name>/SKILL.md` (found walking up from the workdir, like `.claude/skills`; a
 * project `.opencode/` dir would make it npm-install into the workdir), opened with its `skill` tool.
 */

const OPENCODE_VERSION = '1.18.33';

export const OPENCODE_PACKAGE: AgentPackage = {
  agent: 'opencode',
  npmPackage: 'opencode-ai',
  version: OPENCODE_VERSION,
  launch: [
    // The postinstall copies the right native binary (AVX2 or baseline) over this placeholder.
    { path: 'node_modules/opencode-ai/bin/opencode.exe', minBytes: 1024 * 1024 },
    ...opencodePlatforms().map((p) => ({ path: `node_modules/opencode-${p}/bin/opencode` })),
  ],
  pathDirs: ['bin'],
  postInstall: async (root, log) => {
    await provideRipgrep(root, log);
  },
};

function opencodePlatforms(): string[] {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const base = `${platform}-${process.arch}`;
  return platform === 'linux' ? [`${base}-baseline`, base, `${base}-musl`, `${base}-baseline-musl`] : [base];
}

export const OPENCODE_DEFAULT_MODEL = 'gpt-5.5';
const PROVIDER_ID = 'skill-eval';
const DEFAULT_OPENAI_URL = 'https://api.openai.com/v1';

const toolState = z.looseObject({
  status: z.string().optional(),
  input: z.unknown().optional(),
  output: z.string().optional(),
  error: z.string().optional(),
  metadata: z.looseObject({ exit: z.number().nullable().optional() }).optional(),
  time: z.looseObject({ start: z.number().optional(), end: z.number().optional() }).optional(),
});

const opencodeEvent = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('step_start') }),
  z.looseObject({ type: z.literal('text'), part: z.looseObject({ text: z.string() }) }),
  z.looseObject({ type: z.literal('tool_use'), part: z.looseObject({ tool: z.string(), state: toolState }) }),
  z.looseObject({
    type: z.literal('step_finish'),
    part: z.looseObject({
      cost: z.number().optional(),
      tokens: z
        .looseObject({
          input: z.number().optional(),
          output: z.number().optional(),
          reasoning: z.number().optional(),
          cache: z.looseObject({ read: z.number().optional(), write: z.number().optional() }).optional(),
        })
        .optional(),
    }),
  }),
  z.looseObject({
    type: z.literal('error'),
    error: z
      .looseObject({ name: z.string().optional(), data: z.looseObject({ message: z.string().optional() }).optional() })
      .optional(),
  }),
]);

/** Connection failures in a row, before any model response, after which the endpoint counts as unreachable (about 8 s). */
const UNREACHABLE_FAILURES_AT_START = 3;

/** Reads `opencode run --format json`: step_start / text / tool_use / step_finish per model step, error. */
class OpenCodeStreamParser {
  private readonly totals = { input: 0, cached: 0, output: 0, cost: 0, steps: 0 };
  private connectionFailures = 0;

  constructor(
    private readonly recorder: RunRecorder,
    private readonly model: string,
  ) {}

  onLine(line: string): void {
    const event = parseEvent(opencodeEvent, parseJsonLine(line));
    if (!event) return;
    switch (event.type) {
      case 'step_start':
        this.recorder.modelCalls += 1;
        return;
      case 'text':
        this.recorder.message('assistant', event.part.text);
        return;
      case 'tool_use':
        this.onTool(event.part.tool, event.part.state);
        return;
      case 'step_finish': {
        const tokens = event.part.tokens;
        this.totals.steps += 1;
        // OpenCode's `input` excludes cache reads and writes; skill-eval's inputTokens includes them.
        this.totals.input += (tokens?.input ?? 0) + (tokens?.cache?.read ?? 0) + (tokens?.cache?.write ?? 0);
        this.totals.cached += tokens?.cache?.read ?? 0;
        this.totals.output += (tokens?.output ?? 0) + (tokens?.reasoning ?? 0);
        this.totals.cost += event.part.cost ?? 0;
        return;
      }
      case 'error':
        this.recorder.failure = event.error?.data?.message ?? event.error?.name ?? 'OpenCode reported an error';
        return;
    }
  }

  /** Its logs (stderr) are the only place connection retries show. */
  onStderrLine(line: string): void {
    if (!line.includes('stream error') || line.includes('small=true')) return;
    if (!/Cannot connect to API|Unable to connect|ECONNREFUSED/i.test(line)) return;
    this.connectionFailures += 1;
    if (this.recorder.modelCalls === 0 && this.connectionFailures >= UNREACHABLE_FAILURES_AT_START) {
      this.recorder.giveUp(
        `model endpoint unreachable: ${this.connectionFailures} connection failures and no model response (OpenCode would retry for over a minute)`,
      );
    }
  }

  private onTool(tool: string, state: z.infer<typeof toolState>): void {
    const input = state.input && typeof state.input === 'object' ? (state.input as Record<string, unknown>) : {};
    const ok = state.status === 'completed';
    const output = state.output ?? state.error;
    if (tool === 'bash' && typeof input.command === 'string') {
      const durationMs =
        state.time?.start !== undefined && state.time.end !== undefined ? state.time.end - state.time.start : undefined;
      this.recorder.command({
        command: input.command,
        exitCode: state.metadata?.exit ?? undefined,
        output,
        durationMs,
      });
      return;
    }
    this.recorder.toolCall({ tool, input: state.input, output, isError: !ok });
    if (tool === 'skill' && ok && typeof input.name === 'string') this.recorder.skill(input.name, 'skill tool');
  }

  usage(): Usage | undefined {
    if (this.totals.steps === 0) return undefined;
    const usage: Usage = {
      inputTokens: this.totals.input,
      cachedInputTokens: this.totals.cached,
      outputTokens: this.totals.output,
      turns: this.totals.steps,
    };
    // A configured model price makes OpenCode report cost; ours has none, so the table decides.
    if (this.totals.cost > 0) return { ...usage, costUsd: this.totals.cost, costEstimated: false };
    const cost = estimateCost(this.model, usage);
    return cost === undefined ? usage : { ...usage, costUsd: cost, costEstimated: true };
  }
}

/** The OPENCODE_CONFIG file: one OpenAI-compatible provider with the one model, no sharing or updates. */
export function opencodeConfig(model: string, url: string | undefined): string {
  return `${JSON.stringify(
    {
      $schema: 'https://opencode.ai/config.json',
      provider: {
        [PROVIDER_ID]: {
          npm: '@ai-sdk/openai-compatible',
          name: url ? 'skill-eval (OPENAI_BASE_URL)' : 'OpenAI (skill-eval)',
          options: { baseURL: url ?? DEFAULT_OPENAI_URL, apiKey: '{env:OPENAI_API_KEY}' },
          models: { [model]: { name: model } },
        },
      },
      model: `${PROVIDER_ID}/${model}`,
      // Titles and summaries go to the same model instead of a provider the user never configured.
      small_model: `${PROVIDER_ID}/${model}`,
      autoupdate: false,
      share: 'disabled',
    },
    undefined,
    2,
  )}\n`;
}

/**
 * Files that make OpenCode's global config dir look already installed: it otherwise runs an npm install of
 * `@opencode-ai/plugin` there on every start (network, and minutes when the registry is unreachable).
 */
function opencodeConfigDirSeed(): Record<string, string> {
  const dependencies = { '@opencode-ai/plugin': OPENCODE_VERSION };
  return {
    'package.json': `${JSON.stringify({ dependencies }, undefined, 2)}\n`,
    'package-lock.json': `${JSON.stringify({ lockfileVersion: 3, requires: true, packages: { '': { dependencies } } }, undefined, 2)}\n`,
    'node_modules/.skill-eval': 'pre-seeded by skill-eval: no plugin install\n',
  };
}

export const opencodeAgent: Agent = {
  name: 'opencode',
  description: `OpenCode ${OPENCODE_VERSION} (${OPENCODE_PACKAGE.npmPackage}), opencode run; default model ${OPENCODE_DEFAULT_MODEL}`,
  requiredEnv: ['OPENAI_API_KEY'],
  skillDirs: ['.agents/skills'],
  usesSolution: false,
  defaultModel: OPENCODE_DEFAULT_MODEL,
  install: async (options) => {
    await ensureInstalledOutsideTrial(OPENCODE_PACKAGE, options);
  },
  // Loaded on demand: it pulls in the Docker engine client.
  imageLayer: async (options) => (await import('./cli/image-layer.js')).agentImageLayer(OPENCODE_PACKAGE, options),
  async run(context: AgentRunContext): Promise<AgentRunResult> {
    const key = requireKey(context.env, 'OPENAI_API_KEY', 'opencode');
    const url = baseUrl(context.env, 'OPENAI_BASE_URL', 'opencode');
    const model = context.model ?? OPENCODE_DEFAULT_MODEL;
    const cli = await locateCli(OPENCODE_PACKAGE, context.workspace, context.signal);
    const configDir = posix.join(context.paths.home, '.config', 'opencode');
    for (const [path, content] of Object.entries(opencodeConfigDirSeed()))
      await context.workspace.writeFile(posix.join(configDir, path), content);
    const configFile = posix.join(context.paths.home, '.skill-eval', 'opencode.json');
    await context.workspace.writeFile(configFile, opencodeConfig(model, url));
    const invocation = cliCommand(cli, [
      'run',
      '--format',
      'json',
      '--auto',
      '--print-logs',
      '--log-level',
      'WARN',
      '-m',
      `${PROVIDER_ID}/${model}`,
    ]);
    const recorder = newRecorder(context, opencodeAgent.skillDirs);
    const parser = new OpenCodeStreamParser(recorder, model);
    const outcome = await runCli('opencode', context, {
      command: invocation.command,
      stdin: context.instruction,
      env: {
        ...context.env,
        OPENAI_API_KEY: key,
        OPENCODE_CONFIG: configFile,
        OPENCODE_DISABLE_MODELS_FETCH: '1',
        OPENCODE_DISABLE_AUTOUPDATE: '1',
        OPENCODE_DISABLE_SHARE: '1',
        OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
        ...invocation.env,
      },
      onLine: (line) => parser.onLine(line),
      onStderrLine: (line) => parser.onStderrLine(line),
      giveUp: recorder.giveUpSignal,
    });
    return finishRun('opencode', outcome, recorder, parser.usage());
  },
};

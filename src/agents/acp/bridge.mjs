// skill-eval's ACP bridge: the Agent Client Protocol *client* that runs inside a trial's environment.
// It spawns the agent ($SKILL_EVAL_ACP_COMMAND, with bash, in the workdir), then initialize → session/new
// (cwd = the workdir) → session/prompt with the instruction read from stdin. Every permission request is
// approved (and reported); terminal/* requests run the command here, in the environment, like the agent's own
// tools would. Everything that happened goes to stdout as JSONL, one event per line, for the host to parse
// (src/agents/acp/stream.ts). On SIGTERM (agent timeout, cancel): session/cancel, then the agent's process group
// is killed. Installed next to the pinned @agentclientprotocol/sdk in the agent cache (src/agents/acp/package.ts).
import { spawn } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import { client, ndJsonStream, PROTOCOL_VERSION } from '@agentclientprotocol/sdk';

/** Output kept per terminal command in the event; the agent gets what it asked for (outputByteLimit). */
const MAX_EVENT_OUTPUT = 20_000;
/** How long the agent has to wind down after session/cancel before its process group is killed. */
const CANCEL_GRACE_MS = 500;

function emit(event) {
  process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), ...event })}\n`);
}

function killGroup(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

function shellQuote(word) {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** A command the agent asked the client to run (terminal/create): its own process group, output kept to a limit. */
function startTerminal(id, params, cwd) {
  const args = params.args ?? [];
  // A bare command is a shell line (as agents send it); with args it is a program and its arguments.
  const line = args.length > 0 ? [params.command, ...args].map(shellQuote).join(' ') : params.command;
  const env = { ...process.env };
  for (const variable of params.env ?? []) env[variable.name] = variable.value;
  const started = performance.now();
  const child = spawn(args.length > 0 ? params.command : 'bash', args.length > 0 ? args : ['-c', params.command], {
    cwd: params.cwd ?? cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const terminal = { id, child, output: '', truncated: false, exitStatus: undefined, exited: undefined };
  const limit = params.outputByteLimit ?? undefined;
  let full = '';
  const onData = (chunk) => {
    const text = chunk.toString('utf8');
    full += text;
    terminal.output += text;
    if (limit !== undefined && Buffer.byteLength(terminal.output) > limit) {
      // ACP: truncate from the beginning, on a character boundary.
      terminal.output = terminal.output.slice(Buffer.byteLength(terminal.output) - limit);
      terminal.truncated = true;
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  terminal.exited = new Promise((resolve) => {
    const finish = (exitCode, signal, error) => {
      if (terminal.exitStatus) return;
      if (error) onData(Buffer.from(`${error.message}\n`));
      terminal.exitStatus = { exitCode, signal };
      emit({
        type: 'terminal',
        terminalId: id,
        command: line,
        cwd: params.cwd ?? cwd,
        exitCode,
        signal,
        output: full.length > MAX_EVENT_OUTPUT ? `${full.slice(0, MAX_EVENT_OUTPUT)}\n[…]` : full,
        durationMs: Math.round(performance.now() - started),
      });
      resolve(terminal.exitStatus);
    };
    child.on('error', (error) => finish(127, null, error));
    child.on('close', (code, signal) => finish(code, signal));
  });
  return terminal;
}

/** The option an auto-approving client picks: allow (always, then once), else the first offered. */
function approve(options) {
  return options.find((o) => o.kind === 'allow_always') ?? options.find((o) => o.kind === 'allow_once') ?? options[0];
}

function clientApp(cwd, terminals) {
  let next = 0;
  const terminal = (params) => {
    const found = terminals.get(params.terminalId);
    if (!found) throw new Error(`unknown terminal ${params.terminalId}`);
    return found;
  };
  return client({ name: 'skill-eval' })
    .onNotification('session/update', ({ params }) => emit({ type: 'update', update: params.update }))
    .onRequest('session/request_permission', ({ params }) => {
      const chosen = approve(params.options);
      emit({ type: 'permission', toolCall: params.toolCall, options: params.options, chosen: chosen?.optionId });
      return chosen
        ? { outcome: { outcome: 'selected', optionId: chosen.optionId } }
        : { outcome: { outcome: 'cancelled' } };
    })
    .onRequest('terminal/create', ({ params }) => {
      next += 1;
      const id = `term-${next}`;
      terminals.set(id, startTerminal(id, params, cwd));
      return { terminalId: id };
    })
    .onRequest('terminal/output', ({ params }) => {
      const t = terminal(params);
      return { output: t.output, truncated: t.truncated, exitStatus: t.exitStatus ?? null };
    })
    .onRequest('terminal/wait_for_exit', async ({ params }) => await terminal(params).exited)
    .onRequest('terminal/kill', ({ params }) => {
      killGroup(terminal(params).child, 'SIGKILL');
      return {};
    })
    .onRequest('terminal/release', ({ params }) => {
      const t = terminal(params);
      killGroup(t.child, 'SIGKILL');
      terminals.delete(params.terminalId);
      return {};
    });
}

async function main() {
  const command = process.env.SKILL_EVAL_ACP_COMMAND;
  if (!command) throw new Error('SKILL_EVAL_ACP_COMMAND is not set');
  const cwd = process.cwd();
  const instruction = await readStdin();
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('SKILL_EVAL_CLI_')) delete env[name];
  // The agent runs in its own process group, so that cancelling can stop everything it started.
  const agent = spawn('bash', ['-c', command], { cwd, env, detached: true, stdio: ['pipe', 'pipe', 'inherit'] });
  const terminals = new Map();
  const agentExit = new Promise((resolve) => {
    agent.on('error', (error) => resolve({ code: 127, signal: null, error: error.message }));
    agent.on('exit', (code, signal) => resolve({ code, signal }));
  });
  void agentExit.then((exit) => emit({ type: 'agent_exit', ...exit }));
  let cancel = () => {
    killGroup(agent, 'SIGKILL');
    process.exit(143);
  };
  process.on('SIGTERM', () => cancel());
  process.on('SIGINT', () => cancel());
  const stop = (code) => {
    for (const t of terminals.values()) killGroup(t.child, 'SIGKILL');
    killGroup(agent, 'SIGTERM');
    setTimeout(() => {
      killGroup(agent, 'SIGKILL');
      process.exit(code);
    }, CANCEL_GRACE_MS).unref();
    return agentExit.then(() => process.exit(code));
  };
  const stream = ndJsonStream(Writable.toWeb(agent.stdin), Readable.toWeb(agent.stdout));
  const exitMessage = (exit) =>
    `the ACP agent exited (${exit.error ?? exit.signal ?? `code ${exit.code}`}) before the prompt ended`;
  const failed = agentExit.then((exit) => {
    throw new Error(exitMessage(exit));
  });
  failed.catch(() => undefined);
  try {
    await clientApp(cwd, terminals).connectWith(stream, async (ctx) => {
      const init = await Promise.race([
        ctx.request('initialize', {
          protocolVersion: PROTOCOL_VERSION,
          clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: true },
          clientInfo: { name: 'skill-eval', version: '1' },
        }),
        failed,
      ]);
      emit({
        type: 'initialized',
        protocolVersion: init.protocolVersion,
        agentInfo: init.agentInfo,
        agentCapabilities: init.agentCapabilities,
      });
      const session = await Promise.race([ctx.request('session/new', { cwd, mcpServers: [] }), failed]);
      emit({ type: 'session', sessionId: session.sessionId });
      cancel = () => {
        emit({ type: 'cancel' });
        void ctx.notify('session/cancel', { sessionId: session.sessionId }).catch(() => undefined);
        setTimeout(() => void stop(143), CANCEL_GRACE_MS).unref();
      };
      const response = await Promise.race([
        ctx.request('session/prompt', { sessionId: session.sessionId, prompt: [{ type: 'text', text: instruction }] }),
        failed,
      ]);
      emit({ type: 'stop', stopReason: response.stopReason, usage: response.usage, meta: response._meta });
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // A dead agent closes the connection first: say that it died, not only that the connection closed.
    const exit = await Promise.race([agentExit, new Promise((resolve) => setTimeout(resolve, 200))]);
    const died = exit ? exitMessage(exit) : undefined;
    emit({ type: 'error', message: died && died !== message ? `${died} (${message})` : message });
    await stop(1);
  }
  await stop(0);
}

main().catch((error) => {
  emit({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});

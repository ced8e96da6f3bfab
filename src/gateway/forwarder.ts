import { createServer } from 'node:net';
import { posix } from 'node:path';
import type { ExecOptions, ExecResult, Workspace } from '../environments/types.js';

/**
 * The way from an agent's sandbox to its trial's model gateway. The gateway listens on a unix socket in a host
 * directory the provider shows inside the environment (WorkspaceContext.gatewayDir); in the same command as the
 * agent CLI (so in the same network namespace: the local sandbox gives every command its own), a tiny Node.js
 * forwarder listens on 127.0.0.1:PORT and relays each connection to that socket. The CLI's base URL is
 * http://127.0.0.1:PORT: it needs no network at all, so an offline task's sandbox keeps none (Docker: network
 * none; local: loopback only), and nothing but the gateway is reachable through it.
 */

/** The gateway's socket and the forwarder's script, in the gateway directory. */
export const GATEWAY_SOCKET = 'gateway.sock';
export const FORWARDER_SCRIPT = 'forwarder.mjs';

/**
 * The forwarder (Node ≥ 18, no dependencies): `node forwarder.mjs SOCKET PORT`. It checks the socket once before
 * listening (a refused socket, as under gVisor without --host-uds, is said at once, exit 3), and exits when its
 * parent does: the bash that became the agent CLI (exec), so it never outlives the agent.
 */
export const FORWARDER_SOURCE = `// skill-eval: relays 127.0.0.1:PORT to the trial's model gateway (a unix socket).
import net from 'node:net';
const [socketPath, port] = process.argv.slice(2);
const parent = process.ppid;
const fail = (code, message) => {
  process.stderr.write('skill-eval forwarder: ' + message + '\\n');
  process.exit(code);
};
const probe = net.connect(socketPath);
probe.on('error', (error) => fail(3, 'cannot connect to the model gateway at ' + socketPath + ': ' + error.message));
probe.on('connect', () => {
  probe.destroy();
  const server = net.createServer((client) => {
    const upstream = net.connect(socketPath);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.on('error', (error) => fail(4, 'cannot listen on 127.0.0.1:' + port + ': ' + error.message));
  server.listen(Number(port), '127.0.0.1');
});
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 250);
`;

/** Docker: where the gateway layer (forwarder-layer.ts) puts a Node binary for the forwarder in task images. */
export const GATEWAY_IMAGE_NODE = '/opt/skill-eval/gateway/node';

/** Exit status of an agent command whose forwarder never came up (its reason is on stderr). */
export const FORWARDER_FAILED_EXIT = 97;

/** What a routed agent command needs: where the gateway directory and a Node binary are in the environment. */
export interface GatewayRoute {
  /** Workspace.gatewayDir. */
  dir: string;
  /** A Node.js binary in the environment (the local provider: skill-eval's own; Docker: the gateway layer's). */
  node: string;
  /** The forwarder's port inside the environment. */
  port: number;
}

/**
 * The bash prefix that starts the forwarder and waits (up to 10 s) until it accepts connections. Paths travel in
 * variables: the local provider rewrites task paths in command text.
 */
export function forwarderPrefix(port: number): string {
  const node = '"$SKILL_EVAL_GATEWAY_NODE"';
  const script = `"$SKILL_EVAL_GATEWAY_DIR/${FORWARDER_SCRIPT}"`;
  const socket = `"$SKILL_EVAL_GATEWAY_DIR/${GATEWAY_SOCKET}"`;
  return [
    // Docker: the gateway layer's Node; a task image prepared without it may still have its own.
    '[ -x "$SKILL_EVAL_GATEWAY_NODE" ] || SKILL_EVAL_GATEWAY_NODE="$(command -v node || echo "$SKILL_EVAL_GATEWAY_NODE")"',
    `${node} ${script} ${socket} ${port} </dev/null >/dev/null 2>"$SKILL_EVAL_GATEWAY_LOG" &`,
    'skill_eval_fwd=$!',
    'skill_eval_try=0',
    `until (: </dev/tcp/127.0.0.1/${port}) 2>/dev/null; do`,
    '  skill_eval_try=$((skill_eval_try + 1))',
    `  if ! kill -0 "$skill_eval_fwd" 2>/dev/null || [ "$skill_eval_try" -gt 200 ]; then`,
    `    echo "skill-eval: the model gateway forwarder did not start: $(cat "$SKILL_EVAL_GATEWAY_LOG" 2>/dev/null)" >&2`,
    `    exit ${FORWARDER_FAILED_EXIT}`,
    '  fi',
    '  sleep 0.05',
    'done',
    'unset skill_eval_fwd skill_eval_try',
    '',
  ].join('\n');
}

/**
 * The workspace the agent gets: its model-API commands (ExecOptions.callsModelApi) start the forwarder first and
 * run with the network the task gives every other command (an offline task: none). Everything else is the
 * workspace's own.
 */
export function routedWorkspace(workspace: Workspace, route: GatewayRoute): Workspace {
  const exec = (command: string, options: ExecOptions = {}): Promise<ExecResult> => {
    if (options.callsModelApi !== true) return workspace.exec(command, options);
    const env = {
      ...options.env,
      SKILL_EVAL_GATEWAY_DIR: route.dir,
      SKILL_EVAL_GATEWAY_NODE: route.node,
      SKILL_EVAL_GATEWAY_LOG: posix.join(workspace.paths.tmp, '.skill-eval-forwarder.log'),
    };
    return workspace.exec(forwarderPrefix(route.port) + command, { ...options, env, callsModelApi: false });
  };
  return {
    id: workspace.id,
    paths: workspace.paths,
    get limits() {
      return workspace.limits;
    },
    gatewayDir: workspace.gatewayDir,
    exec,
    upload: (hostPath, envPath) => workspace.upload(hostPath, envPath),
    writeFile: (envPath, content, mode) => workspace.writeFile(envPath, content, mode),
    download: (envPath, hostPath) => workspace.download(envPath, hostPath),
    readFile: (envPath) => workspace.readFile(envPath),
    remove: (envPath) => workspace.remove(envPath),
    stopAll: () => workspace.stopAll(),
    // The lifecycle disposes the workspace itself; the agent's view never does.
    dispose: () => Promise.resolve(),
  };
}

/**
 * A loopback port free on this machine now: inside a container or an offline sandbox any port would do, but a
 * sandbox that shares the host's network (the local provider on an online task, `network_mode = "host"`) needs
 * one no other trial holds.
 */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no loopback port');
  return address.port;
}

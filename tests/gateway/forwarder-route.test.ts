import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerProvider } from '../../src/environments/docker.js';
import { probeSandbox } from '../../src/environments/local/sandbox.js';
import { createLocalProvider } from '../../src/environments/local.js';
import type { EnvironmentProvider, ImageLayer, Workspace } from '../../src/environments/types.js';
import {
  FORWARDER_FAILED_EXIT,
  FORWARDER_SCRIPT,
  FORWARDER_SOURCE,
  freeLoopbackPort,
  GATEWAY_IMAGE_NODE,
  GATEWAY_SOCKET,
  routedWorkspace,
} from '../../src/gateway/forwarder.js';
import { gatewayNodeLayer } from '../../src/gateway/forwarder-layer.js';
import type { Task } from '../../src/task/types.js';
import { loadSuperlint } from '../agents/harness.js';
import { engineGate } from '../environments/docker-engine.js';

/**
 * The offline route: an agent command of an offline task (superlint_demo: allow_internet = false) reaches the
 * trial's gateway socket through the forwarder, and nothing else — not the host's loopback, not the host's other
 * addresses, not the internet. A plain HTTP server on the socket stands in for the gateway here; the trial tests
 * run the real one with the real CLIs.
 */

const runDocker = await engineGate('the gateway route in Docker');

/** Bash only (no curl in task images): an HTTP GET through /dev/tcp, then probes of what must stay closed. */
const PROBE = [
  'get() { exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1; printf "GET /probe HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n" >&3; tail -n 1 <&3; exec 3<&-; }',
  'echo "gateway: $(get "$FWD_PORT")"',
  'probe() { if timeout 3 bash -c ": </dev/tcp/$1/$2" 2>/dev/null; then echo "$3: open"; else echo "$3: closed"; fi; }',
  'probe 127.0.0.1 "$HOST_LOOPBACK_PORT" host-loopback',
  'for ip in $HOST_IPS; do probe "$ip" "$HOST_ANY_PORT" "host-$ip"; done',
  'probe 1.1.1.1 53 internet',
].join('\n');

describe('the forwarder: an offline sandbox reaches only the gateway', () => {
  let dir: string;
  let gateway: HttpServer;
  let loopbackOnly: Server;
  let everywhere: Server;
  let task: Task;
  const hostIps = Object.values(networkInterfaces())
    .flat()
    .flatMap((a) => (a && a.family === 'IPv4' && !a.internal ? [a.address] : []));

  beforeAll(async () => {
    task = await loadSuperlint();
    expect(task.config.environment.allowInternet).toBe(false);
    dir = await mkdtemp(join(tmpdir(), 'skgw-test-'));
    await chmod(dir, 0o755);
    await writeFile(join(dir, FORWARDER_SCRIPT), FORWARDER_SOURCE, { mode: 0o644 });
    gateway = createHttpServer((_req, res) => res.end('\nfrom-the-gateway'));
    await new Promise<void>((resolve) => gateway.listen(join(dir, GATEWAY_SOCKET), resolve));
    await chmod(join(dir, GATEWAY_SOCKET), 0o666);
    loopbackOnly = createServer((socket) => socket.end('loopback\n'));
    everywhere = createServer((socket) => socket.end('any\n'));
    await new Promise<void>((resolve) => loopbackOnly.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => everywhere.listen(0, '0.0.0.0', resolve));
  });

  afterAll(async () => {
    for (const server of [gateway, loopbackOnly, everywhere]) await new Promise((resolve) => server?.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  async function probe(provider: EnvironmentProvider, node: string, layers?: ImageLayer[]) {
    const prepared = await provider.prepare(task, {
      jobId: 'gw-route',
      forceBuild: false,
      log: () => undefined,
      layers,
    });
    const name = `route-${provider.name}`;
    const workspace: Workspace = await provider.createWorkspace(prepared, {
      jobId: 'gw-route',
      trialId: `${name}-${process.pid}`,
      trialName: name,
      gatewayDir: dir,
    });
    try {
      expect(workspace.gatewayDir).toBeDefined();
      const port = await freeLoopbackPort();
      const routed = routedWorkspace(workspace, { dir: workspace.gatewayDir!, node, port });
      const env = {
        FWD_PORT: String(port),
        HOST_LOOPBACK_PORT: String(portOf(loopbackOnly)),
        HOST_ANY_PORT: String(portOf(everywhere)),
        HOST_IPS: [...hostIps, '172.17.0.1'].join(' '),
      };
      // The same command unrouted (the verifier, the oracle): no gateway, nothing else either. First: in a
      // container, the agent command's forwarder lingers for up to 250 ms after it.
      const other = await workspace.exec(PROBE, { env, timeoutMs: 60_000 });
      const agent = await routed.exec(PROBE, { env, callsModelApi: true, timeoutMs: 60_000 });
      return { agent, other, limits: workspace.limits };
    } finally {
      await workspace.dispose();
    }
  }

  function expectOnlyTheGateway(stdout: string): void {
    expect(stdout).toContain('gateway: from-the-gateway');
    expect(stdout).toContain('host-loopback: closed');
    for (const ip of hostIps) expect(stdout).toContain(`host-${ip}: closed`);
    expect(stdout).toContain('internet: closed');
    expect(stdout).not.toMatch(/: open/);
  }

  it.runIf(probeSandbox().available)(
    'local provider (bubblewrap): the agent command reaches the gateway and nothing else; the network stays cut',
    async () => {
      const { agent, other, limits } = await probe(createLocalProvider({ killGraceMs: 500 }), process.execPath);
      expect(agent.exitCode, agent.stderr).toBe(0);
      expectOnlyTheGateway(agent.stdout);
      expect(other.stdout).not.toContain('from-the-gateway');
      // No agent command kept the host's network: the offline task's limit holds.
      expect(limits.network).toBe('enforced');
      expect(limits.notes.join('\n')).not.toMatch(/host's network/);
    },
    120_000,
  );

  it.runIf(runDocker)(
    'Docker (network none): the agent command reaches the gateway and nothing else',
    async () => {
      const layers = [await gatewayNodeLayer({ log: () => undefined })];
      const { agent, other } = await probe(createDockerProvider({ killGraceMs: 500 }), GATEWAY_IMAGE_NODE, layers);
      expect(agent.exitCode, agent.stderr).toBe(0);
      expectOnlyTheGateway(agent.stdout);
      expect(other.stdout).not.toContain('from-the-gateway');
    },
    600_000,
  );

  it.runIf(probeSandbox().available)(
    'a forwarder that cannot reach the socket fails the command at once, saying why',
    async () => {
      const provider = createLocalProvider({ killGraceMs: 500 });
      const prepared = await provider.prepare(task, { jobId: 'gw-route', forceBuild: false, log: () => undefined });
      const empty = await mkdtemp(join(tmpdir(), 'skgw-empty-'));
      await writeFile(join(empty, FORWARDER_SCRIPT), FORWARDER_SOURCE);
      const workspace = await provider.createWorkspace(prepared, {
        jobId: 'gw-route',
        trialId: `nosocket-${process.pid}`,
        trialName: 'nosocket',
        gatewayDir: empty,
      });
      try {
        const routed = routedWorkspace(workspace, {
          dir: workspace.gatewayDir!,
          node: process.execPath,
          port: await freeLoopbackPort(),
        });
        const run = await routed.exec('echo agent-ran', { callsModelApi: true, timeoutMs: 30_000 });
        expect(run.exitCode).toBe(FORWARDER_FAILED_EXIT);
        expect(run.stdout).not.toContain('agent-ran');
        expect(run.stderr).toMatch(/forwarder did not start.*cannot connect to the model gateway/s);
      } finally {
        await workspace.dispose();
        await rm(empty, { recursive: true, force: true });
      }
    },
    60_000,
  );
});

function portOf(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening');
  return address.port;
}

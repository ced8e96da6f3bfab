/** The Docker provider's checks before any trial (checkTask, checkJob, the preflight hint): no engine needed. */
import { describe, expect, it } from 'vitest';
import {
  checkDockerJob,
  checkRunscGateway,
  dockerTaskProblems,
  withoutDockerHint,
} from '../../src/environments/docker/checks.js';
import { createDockerProvider } from '../../src/environments/docker.js';
import { InfraError, UsageError } from '../../src/errors.js';
import { makeTask, uniqueId } from './docker-engine.js';

const online = 'schema_version = "1.1"\n[environment]\nallow_internet = true\n';
const offline = 'schema_version = "1.1"\n[environment]\nallow_internet = false\n';

describe('checkTask', () => {
  it('accepts a task with environment/Dockerfile or [environment].docker_image', async () => {
    const built = await makeTask(uniqueId('df'), { 'environment/Dockerfile': 'FROM scratch\n' });
    const image = await makeTask(uniqueId('img'), {}, 'schema_version = "1.1"\n[environment]\ndocker_image = "x:1"\n');
    expect(dockerTaskProblems(built)).toEqual([]);
    expect(dockerTaskProblems(image)).toEqual([]);
  });

  it('names the missing Dockerfile, relative to cwd, and says what is there instead', async () => {
    const bare = await makeTask(uniqueId('bare'), {});
    const withDir = await makeTask(uniqueId('dir'), { 'environment/setup.txt': 'x\n' });
    const [problem] = dockerTaskProblems(bare, { cwd: bare.dir });
    expect(problem).toEqual({
      file: 'environment/Dockerfile',
      message: 'the docker provider needs an environment for this task',
      expected: 'environment/Dockerfile, or [environment].docker_image in task.toml',
      found: 'no environment/ directory and no docker_image',
      severity: 'error',
    });
    expect(dockerTaskProblems(withDir)[0]?.found).toBe('environment/ without a Dockerfile, and no docker_image');
    // The provider's method is the same check.
    expect(createDockerProvider().checkTask?.(bare, { cwd: bare.dir })).toEqual([problem]);
  });
});

describe('checkJob', () => {
  it('refuses API agents without the gateway on tasks without network, naming both and the way out', async () => {
    const a = await makeTask(uniqueId('off'), {}, offline);
    const b = await makeTask(uniqueId('on'), {}, online);
    const failure = (() => {
      try {
        checkDockerJob({ tasks: [a, b], apiAgents: ['claude-code'] }, undefined);
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(failure).toBeInstanceOf(UsageError);
    expect((failure as UsageError).message).toBe(
      `${a.name} has no network (allow_internet = false), so claude-code cannot reach its model API inside the container without the model gateway (--no-gateway)`,
    );
    expect((failure as UsageError).hint).toMatch(/^drop --no-gateway .*--network=bridge/);
  });

  it('counts network_mode = "none" as offline and says "have" for several tasks', async () => {
    const a = await makeTask(uniqueId('off'), {}, offline);
    const b = await makeTask(uniqueId('none'), {}, `${online}network_mode = "none"\n`);
    expect(() => checkDockerJob({ tasks: [a, b], apiAgents: ['codex'] }, undefined)).toThrow(
      `${a.name}, ${b.name} have no network`,
    );
  });

  it('lets the job run with a network override, without API agents, or when every task is online', async () => {
    const a = await makeTask(uniqueId('off'), {}, offline);
    const b = await makeTask(uniqueId('on'), {}, online);
    expect(() => checkDockerJob({ tasks: [a], apiAgents: ['codex'] }, 'bridge')).not.toThrow();
    expect(() => checkDockerJob({ tasks: [a], apiAgents: [] }, undefined)).not.toThrow();
    expect(() => checkDockerJob({ tasks: [b], apiAgents: ['codex'] }, undefined)).not.toThrow();
    // The provider's method knows its own override.
    expect(() =>
      createDockerProvider({ networkOverride: 'host' }).checkJob?.({ tasks: [a], apiAgents: ['x'] }),
    ).not.toThrow();
    expect(() => createDockerProvider().checkJob?.({ tasks: [a], apiAgents: ['x'] })).toThrow(UsageError);
  });

  it('lets API agents behind the model gateway run on offline tasks without --network', async () => {
    const a = await makeTask(uniqueId('off'), {}, offline);
    expect(() => checkDockerJob({ tasks: [a], apiAgents: ['codex'], gateway: true }, undefined)).not.toThrow();
    expect(() => createDockerProvider().checkJob?.({ tasks: [a], apiAgents: ['x'], gateway: true })).not.toThrow();
  });

  it('asks gVisor for host sockets when the gateway needs them, and says how', () => {
    expect(() => checkRunscGateway(undefined, { runtimeArgs: {} })).not.toThrow();
    expect(() =>
      checkRunscGateway('runsc', { runtimeArgs: { runsc: ['--network=host', '--host-uds=open'] } }),
    ).not.toThrow();
    expect(() => checkRunscGateway('runsc', { runtimeArgs: { runsc: ['--network=host'] } })).toThrow(
      /gVisor refuses unless runsc runs with --host-uds=open/,
    );
  });
});

describe('preflight hint', () => {
  it('adds the way to run without Docker under the engine hint, keeping message, cause and retryability', () => {
    const original = new InfraError('no Docker engine answers at /x', {
      hint: 'start a Docker engine',
      retryable: false,
    });
    const wrapped = withoutDockerHint(original);
    expect(wrapped.message).toBe(original.message);
    expect(wrapped.hint).toBe('start a Docker engine\nor run without Docker: add --provider=local');
    expect(wrapped.cause).toBe(original);
    expect(wrapped.retryable).toBe(false);
    expect(withoutDockerHint(new InfraError('x')).hint).toBe('or run without Docker: add --provider=local');
  });

  it('is what preflight throws when no engine answers', async () => {
    const previous = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'unix:///nonexistent/docker.sock';
    try {
      const failure = await createDockerProvider()
        .preflight()
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(InfraError);
      expect((failure as InfraError).hint).toMatch(/\nor run without Docker: add --provider=local$/);
    } finally {
      if (previous === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = previous;
    }
  });
});

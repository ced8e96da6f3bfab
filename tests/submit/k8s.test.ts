/**
 * `submit k8s` without a cluster (none can run here): the Indexed Job it generates validates against the Kubernetes
 * OpenAPI schema (kubernetes-models' validators), a broken one does not, and --apply POSTs the Job through the official
 * client to a small HTTP server on 127.0.0.1 that plays the API server.
 */

import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { UsageError } from '../../src/errors.js';
import { validateManifest } from '../../src/submit/k8s/manifest.js';
import { submitK8s } from '../../src/submit/k8s.js';
import { tempDir } from '../helpers/trials.js';
import { plannedJobDir } from './helpers.js';

const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME, KEY: process.env.ANTHROPIC_API_KEY };
const servers: Server[] = [];
afterEach(async () => {
  for (const [name, value] of [
    ['KUBECONFIG', saved.KUBECONFIG],
    ['HOME', saved.HOME],
    ['ANTHROPIC_API_KEY', saved.KEY],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await Promise.all(servers.splice(0).map((server) => new Promise((done) => server.close(done))));
});

const BASE = { workers: 3, image: 'ghcr.io/example/skill-eval:1', pvc: 'skill-eval-results' };

describe('submit k8s: the manifest', () => {
  it('is an Indexed Job of N workers over the job dir on the claim, valid against the Kubernetes schema', async () => {
    const { results, jobDir } = await plannedJobDir();
    process.env.ANTHROPIC_API_KEY = 'sk-ant-secret-value-that-must-not-leak';
    const submission = await submitK8s(
      {
        jobDir,
        ...BASE,
        namespace: 'evals',
        serviceAccount: 'skill-eval',
        secretEnv: ['model-api-keys'],
        cpu: '2',
        memory: '4Gi',
        concurrency: 2,
        privileged: true,
      },
      '/',
    );
    const written = await readFile(join(jobDir, 'k8s', 'worker-job.yaml'), 'utf8');
    expect(written).toBe(submission.yaml);
    expect(written).not.toContain('sk-ant-secret');
    const manifest = parse(written);
    expect(() => new Job(manifest).validate()).not.toThrow();
    expect(manifest).toMatchObject({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'skill-eval-2026-12-02-15-00-00-demo', namespace: 'evals' },
      spec: { completionMode: 'Indexed', completions: 3, parallelism: 3 },
    });
    const pod = manifest.spec.template.spec;
    expect(pod).toMatchObject({ restartPolicy: 'Never', serviceAccountName: 'skill-eval' });
    expect(pod.volumes).toEqual([{ name: 'results', persistentVolumeClaim: { claimName: 'skill-eval-results' } }]);
    expect(pod.containers).toEqual([
      {
        name: 'worker',
        image: BASE.image,
        command: ['skill-eval', 'worker', jobDir, '--concurrency=2'],
        workingDir: results,
        volumeMounts: [{ name: 'results', mountPath: results }],
        envFrom: [{ secretRef: { name: 'model-api-keys' } }],
        resources: { requests: { cpu: '2', memory: '4Gi' }, limits: { cpu: '2', memory: '4Gi' } },
        securityContext: { privileged: true },
      },
    ]);
    // The tasks are under the results dir here, so the pods see them.
    expect(submission.warnings).toEqual([]);
  });

  it('fails validation when broken (the check can fail)', async () => {
    const { jobDir } = await plannedJobDir();
    const manifest = parse((await submitK8s({ jobDir, ...BASE }, '/')).yaml);
    const broken = structuredClone(manifest);
    broken.spec.completions = 'three';
    delete broken.spec.template.spec.containers[0].name;
    expect(() => new Job(broken).validate()).toThrow(
      /spec\/completions must be integer.*containers\/0 must have required property name/s,
    );
    const wrongKind = structuredClone(manifest);
    wrongKind.spec.template.spec.volumes[0].persistentVolumeClaim = { claim: 'x' };
    const error = (() => {
      try {
        validateManifest(new Job(wrongKind));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/^the generated Kubernetes Job does not validate: .*claimName/);
  });

  it('warns about tasks the pods will not see, and refuses a mount path that does not hold the job dir', async () => {
    const { jobDir } = await plannedJobDir({
      tasks: [{ name: 'elsewhere', dir: '/opt/tasks/elsewhere', checksum: 'c'.repeat(64) }],
    });
    const submission = await submitK8s({ jobDir, ...BASE }, '/');
    expect(submission.warnings).toEqual([
      expect.stringMatching(/^task elsewhere is at \/opt\/tasks\/elsewhere, outside/),
    ]);
    const error = await submitK8s({ jobDir, ...BASE, mountPath: '/opt' }, '/').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(`--mount-path /opt: expected a folder that holds the job dir ${jobDir}`);
  });

  it('sets plain variables and a RuntimeClass, and refuses a secret as a plain variable', async () => {
    const { jobDir } = await plannedJobDir();
    const submission = await submitK8s(
      { jobDir, ...BASE, env: ['SKILL_EVAL_LOCAL_SANDBOX=off', 'A=b=c'], runtimeClass: 'gvisor' },
      '/',
    );
    const pod = parse(submission.yaml).spec.template.spec;
    expect(pod.runtimeClassName).toBe('gvisor');
    expect(pod.containers[0].env).toEqual([
      { name: 'SKILL_EVAL_LOCAL_SANDBOX', value: 'off' },
      { name: 'A', value: 'b=c' },
    ]);
    const error = await submitK8s({ jobDir, ...BASE, env: ['OPENAI_API_KEY=sk-x'] }, '/').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe(
      "--env OPENAI_API_KEY: a secret's value would be written into the manifest",
    );
    expect((error as UsageError).hint).toMatch(/--secret-env/);
  });

  it('refuses names and quantities Kubernetes would refuse, naming the flag', async () => {
    const { jobDir } = await plannedJobDir();
    const refuse = async (extra: Record<string, unknown>) =>
      ((await submitK8s({ jobDir, ...BASE, ...extra }, '/').catch((e: unknown) => e)) as Error).message;
    expect(await refuse({ pvc: 'Results_Volume' })).toMatch(
      /^--pvc: expected a Kubernetes name .* found "Results_Volume"/,
    );
    expect(await refuse({ namespace: '-x' })).toMatch(/^--namespace: expected a Kubernetes name/);
    expect(await refuse({ cpu: 'two' })).toBe('--cpu: expected a Kubernetes quantity (500m, 2, 4Gi…), found "two"');
    expect(await refuse({ memory: '4GB' })).toMatch(/^--memory: expected a Kubernetes quantity/);
    expect(await refuse({ workers: 0 })).toBe('--workers: expected a whole number ≥ 1, found 0');
    expect(await refuse({ env: ['no-equals'] })).toBe('--env: expected NAME=VALUE, found "no-equals"');
    expect(await refuse({ image: ' ' })).toBe('--image: expected an image reference, found nothing');
  });
});

interface Recorded {
  method: string;
  url: string;
  authorization: string | undefined;
  body: unknown;
}

async function readBody(request: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of request) text += chunk;
  return text;
}

/** An API server that answers POSTs to the Jobs collection with `status` and records every request. */
async function fakeApiServer(status: number): Promise<{ url: string; requests: Recorded[] }> {
  const requests: Recorded[] = [];
  const server = createServer(async (request, response) => {
    const text = await readBody(request);
    const body = text ? JSON.parse(text) : undefined;
    requests.push({
      method: request.method ?? '',
      url: request.url ?? '',
      authorization: request.headers.authorization,
      body,
    });
    response.writeHead(status, { 'content-type': 'application/json' });
    if (status === 201) response.end(JSON.stringify({ ...body, metadata: { ...body.metadata, uid: 'uid-1' } }));
    else
      response.end(
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          message: `jobs.batch "${body?.metadata?.name}" already exists`,
          reason: 'AlreadyExists',
          code: status,
        }),
      );
  });
  servers.push(server);
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

async function kubeconfigFor(server: string): Promise<string> {
  const file = join(await tempDir('kube'), 'config');
  await writeFile(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      // Plain HTTP on 127.0.0.1: the client allows it only with TLS verification off.
      `clusters: [{ name: test, cluster: { server: "${server}", insecure-skip-tls-verify: true } }]`,
      'users: [{ name: tester, user: { token: test-token } }]',
      'contexts: [{ name: test, context: { cluster: test, user: tester } }]',
      'current-context: test',
      '',
    ].join('\n'),
  );
  return file;
}

describe('submit k8s --apply', () => {
  it('creates the Job through @kubernetes/client-node with the kubeconfig’s credentials', async () => {
    const api = await fakeApiServer(201);
    process.env.KUBECONFIG = await kubeconfigFor(api.url);
    const { jobDir } = await plannedJobDir();
    const submission = await submitK8s({ jobDir, ...BASE, namespace: 'evals', apply: true }, '/');
    expect(api.requests).toHaveLength(1);
    expect(api.requests[0]).toMatchObject({
      method: 'POST',
      url: '/apis/batch/v1/namespaces/evals/jobs',
      authorization: 'Bearer test-token',
    });
    expect(api.requests[0]!.body).toEqual(parse(submission.yaml));
    expect(submission.applied).toEqual({
      server: api.url,
      context: 'test',
      namespace: 'evals',
      name: 'skill-eval-2026-12-02-15-00-00-demo',
      uid: 'uid-1',
    });
  });

  it('says a Job of that name exists (HTTP 409) as a usage error', async () => {
    const api = await fakeApiServer(409);
    process.env.KUBECONFIG = await kubeconfigFor(api.url);
    const { jobDir } = await plannedJobDir();
    const error = await submitK8s({ jobDir, ...BASE, apply: true }, '/').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(
      '--apply: a Job named skill-eval-2026-12-02-15-00-00-demo already exists in namespace default',
    );
  });

  it('says when there is no kubeconfig instead of trying localhost:8080', async () => {
    delete process.env.KUBECONFIG;
    process.env.HOME = await tempDir('home');
    const { jobDir } = await plannedJobDir();
    const error = await submitK8s({ jobDir, ...BASE, apply: true }, '/').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/^--apply: no kubeconfig found/);
    // The manifest is written all the same, for kubectl apply -f.
    expect(await readFile(join(jobDir, 'k8s', 'worker-job.yaml'), 'utf8')).toContain('completionMode: Indexed');
  });
});

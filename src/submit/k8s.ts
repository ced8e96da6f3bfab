import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import { UsageError } from '../errors.js';
import type { JobConfig } from '../jobs/job-config.js';
import { openJobDir } from '../jobs/open-job-dir.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { isSecretName } from '../util/secrets.js';
import { type AppliedJob, applyWorkerJob } from './k8s/apply.js';
import { checkDnsLabel, k8sJobName, manifestYaml, validateManifest, workerJob } from './k8s/manifest.js';
import type { WorkerArgs } from './worker-command.js';

export interface SubmitK8sOptions extends WorkerArgs {
  jobDir: string;
  workers: number;
  image: string;
  pvc: string;
  namespace?: string | undefined;
  name?: string | undefined;
  /** Where the volume is mounted in each pod: an ancestor of the job dir, at the same absolute path as here. */
  mountPath?: string | undefined;
  subPath?: string | undefined;
  serviceAccount?: string | undefined;
  secretEnv?: readonly string[] | undefined;
  /** `NAME=VALUE` entries: plain variables of the worker (a secret-looking name is refused: use secretEnv). */
  env?: readonly string[] | undefined;
  runtimeClass?: string | undefined;
  cpu?: string | undefined;
  memory?: string | undefined;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never' | undefined;
  privileged?: boolean | undefined;
  apply?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

export interface K8sSubmission {
  jobDir: string;
  jobId: string;
  trials: number;
  workers: number;
  manifestPath: string;
  yaml: string;
  /** What the pods will not see, said before anything is applied. */
  warnings: string[];
  applied?: AppliedJob | undefined;
}

/** The results dir on this machine: the folder that holds the job's `jobs/` folder (the job's parent otherwise). */
function defaultMountPath(jobDir: string): string {
  const parent = dirname(jobDir);
  return basename(parent) === 'jobs' ? dirname(parent) : parent;
}

const within = (root: string, path: string): boolean => {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

/** Kubernetes' resource quantity syntax (a number and an optional SI, binary or exponent suffix). */
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)([KMGTPE]i|[munkMGTPE]|[eE][+-]?\d+)?$/;

/** Tasks and local `--skill` folders of the job that are not on the volume: the pods would not find them. */
function unseenPaths(config: JobConfig, mountPath: string): string[] {
  const hint = 'put them on the volume, or pass a --mount-path that holds them';
  const tasks = config.tasks
    .filter((task) => !within(mountPath, task.dir))
    .map(
      (task) =>
        `task ${task.name} is at ${task.dir}, outside the volume's mount path ${mountPath}: the pods will not find it (${hint})`,
    );
  const skills = (config.skill_specs ?? [])
    .filter((spec) => isAbsolute(spec) && !within(mountPath, spec))
    .map(
      (spec) => `--skill ${spec} is outside the volume's mount path ${mountPath}: the pods will not find it (${hint})`,
    );
  return [...tasks, ...skills];
}

function checkOptions(options: SubmitK8sOptions): void {
  if (!Number.isInteger(options.workers) || options.workers < 1)
    throw new UsageError(`--workers: expected a whole number ≥ 1, found ${options.workers}`);
  if (!options.image?.trim()) throw new UsageError('--image: expected an image reference, found nothing');
  checkDnsLabel('--pvc', options.pvc, 253);
  if (options.namespace !== undefined) checkDnsLabel('--namespace', options.namespace);
  if (options.name !== undefined) checkDnsLabel('--name', options.name, 52);
  if (options.serviceAccount !== undefined) checkDnsLabel('--service-account', options.serviceAccount, 253);
  for (const secret of options.secretEnv ?? []) checkDnsLabel('--secret-env', secret, 253);
  if (options.runtimeClass !== undefined) checkDnsLabel('--runtime-class', options.runtimeClass, 253);
  for (const [flag, value] of [
    ['--cpu', options.cpu],
    ['--memory', options.memory],
  ] as const) {
    if (value !== undefined && !QUANTITY.test(value))
      throw new UsageError(`${flag}: expected a Kubernetes quantity (500m, 2, 4Gi…), found ${JSON.stringify(value)}`);
  }
  if (options.mountPath !== undefined && !isAbsolute(options.mountPath))
    throw new UsageError(`--mount-path: expected an absolute path, found ${JSON.stringify(options.mountPath)}`);
}

/** `--env NAME=VALUE` entries as a map; a secret-looking name would put its value in the manifest, so it is refused. */
function plainEnv(entries: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of entries) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(entry);
    if (!match) throw new UsageError(`--env: expected NAME=VALUE, found ${JSON.stringify(entry)}`);
    const [, name, value] = match as unknown as [string, string, string];
    if (isSecretName(name))
      throw new UsageError(`--env ${name}: a secret's value would be written into the manifest`, {
        hint: `put it in a Secret (kubectl create secret generic model-api-keys --from-literal=${name}=…) and pass --secret-env model-api-keys`,
      });
    env[name] = value;
  }
  return env;
}

/**
 * `skill-eval submit k8s JOB_DIR --workers N --image … --pvc …`: an Indexed Job of N workers over the job dir on a
 * shared volume, validated against the Kubernetes schema, written to JOB_DIR/k8s/worker-job.yaml and, with
 * `apply`, created through the cluster's API.
 */
export async function submitK8s(options: SubmitK8sOptions, cwd: string): Promise<K8sSubmission> {
  checkOptions(options);
  const job = await openJobDir(options.jobDir, cwd);
  const mountPath = options.mountPath ?? defaultMountPath(job.dir);
  if (!within(mountPath, job.dir))
    throw new UsageError(`--mount-path ${mountPath}: expected a folder that holds the job dir ${job.dir}`, {
      hint: 'the volume is mounted at the same absolute path as here, so the job dir must be inside it',
    });
  const warnings = unseenPaths(job.config, mountPath);
  const namespace = options.namespace ?? 'default';
  const manifest = workerJob({
    name: options.name ?? k8sJobName(job.config.job_id),
    namespace,
    jobId: job.config.job_id,
    jobDir: job.dir,
    workers: options.workers,
    image: options.image,
    imagePullPolicy: options.imagePullPolicy,
    pvc: options.pvc,
    mountPath,
    subPath: options.subPath,
    serviceAccount: options.serviceAccount,
    secretEnv: options.secretEnv,
    env: plainEnv(options.env ?? []),
    runtimeClass: options.runtimeClass,
    cpu: options.cpu,
    memory: options.memory,
    privileged: options.privileged,
    worker: { concurrency: options.concurrency, staleClaimTimeout: options.staleClaimTimeout },
  });
  validateManifest(manifest);
  const yaml = manifestYaml(manifest);
  const manifestPath = join(job.dir, 'k8s', 'worker-job.yaml');
  await writeFileAtomic(manifestPath, yaml);
  const submission: K8sSubmission = {
    jobDir: job.dir,
    jobId: job.config.job_id,
    trials: job.trials,
    workers: options.workers,
    manifestPath,
    yaml,
    warnings,
  };
  if (options.apply) submission.applied = await applyWorkerJob(manifest, namespace, options.signal);
  return submission;
}

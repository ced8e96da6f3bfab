import { Job } from 'kubernetes-models/batch/v1/Job';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { stringify } from 'yaml';
import { errorMessage, UsageError } from '../../errors.js';
import { type WorkerArgs, workerArgs } from '../worker-command.js';

/** What the Indexed Job of workers is made of; every field comes from a `submit k8s` flag. */
export interface WorkerJobSpec {
  /** The Kubernetes Job's name (a DNS-1123 label). */
  name: string;
  namespace: string;
  /** skill-eval's job id, as a label on the Job and its pods. */
  jobId: string;
  /** The job dir as the pods see it (the volume is mounted so that it has the same absolute path as here). */
  jobDir: string;
  workers: number;
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never' | undefined;
  pvc: string;
  /** Where the claim's volume is mounted in each pod. */
  mountPath: string;
  /** A folder inside the volume to mount instead of its root. */
  subPath?: string | undefined;
  serviceAccount?: string | undefined;
  /** Secrets whose keys become the worker's environment (API keys): named here, never their values. */
  secretEnv?: readonly string[] | undefined;
  /** Plain (non-secret) variables of the worker, e.g. SKILL_EVAL_LOCAL_SANDBOX. */
  env?: Readonly<Record<string, string>> | undefined;
  /** The pods' RuntimeClass (e.g. gVisor's), which then is the trials' sandbox. */
  runtimeClass?: string | undefined;
  cpu?: string | undefined;
  memory?: string | undefined;
  /** Runs the worker container privileged: what the local bubblewrap sandbox needs in most clusters (docs/scale.md). */
  privileged?: boolean | undefined;
  worker: WorkerArgs;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A Job name from a job id: lower case, `-` for anything else, short enough for the pods' generated names. */
export function k8sJobName(jobId: string): string {
  const base = `skill-eval-${jobId.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}`;
  return base.slice(0, 52).replace(/-+$/, '');
}

export function checkDnsLabel(flag: string, value: string, max = 63): void {
  if (value.length > max || !DNS_LABEL.test(value)) {
    throw new UsageError(
      `${flag}: expected a Kubernetes name (lower-case letters, digits and '-', at most ${max} characters, starting and ending with a letter or digit); found ${JSON.stringify(value)}`,
    );
  }
}

/** Label values: at most 63 of `[A-Za-z0-9._-]`, starting and ending alphanumeric. */
function labelValue(text: string): string {
  return text
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

function resources(spec: WorkerJobSpec): IContainer['resources'] {
  const amounts = { ...(spec.cpu ? { cpu: spec.cpu } : {}), ...(spec.memory ? { memory: spec.memory } : {}) };
  return Object.keys(amounts).length > 0 ? { requests: amounts, limits: amounts } : undefined;
}

function workerContainer(spec: WorkerJobSpec): IContainer {
  const container: IContainer = {
    name: 'worker',
    image: spec.image,
    command: ['skill-eval', ...workerArgs(spec.jobDir, spec.worker)],
    workingDir: spec.mountPath,
    volumeMounts: [{ name: 'results', mountPath: spec.mountPath, ...(spec.subPath ? { subPath: spec.subPath } : {}) }],
  };
  if (spec.imagePullPolicy) container.imagePullPolicy = spec.imagePullPolicy;
  const secretEnv = spec.secretEnv ?? [];
  const env = Object.entries(spec.env ?? {});
  if (env.length > 0) container.env = env.map(([name, value]) => ({ name, value }));
  if (secretEnv.length > 0) container.envFrom = secretEnv.map((name) => ({ secretRef: { name } }));
  const limits = resources(spec);
  if (limits) container.resources = limits;
  if (spec.privileged) container.securityContext = { privileged: true };
  return container;
}

/**
 * The workers as one Indexed Job: completions = parallelism = N, so N pods run at once, each a `skill-eval worker`
 * over the job dir on the shared volume. A worker exits 0 when nothing is left to claim, so every index completes
 * once the job is done; a pod that dies leaves stale claims that the other workers take over.
 */
export function workerJob(spec: WorkerJobSpec): Job {
  const labels = {
    'app.kubernetes.io/name': 'skill-eval',
    'app.kubernetes.io/component': 'worker',
    'skill-eval/job-id': labelValue(spec.jobId) || 'job',
  };
  return new Job({
    metadata: { name: spec.name, namespace: spec.namespace, labels },
    spec: {
      completionMode: 'Indexed',
      completions: spec.workers,
      parallelism: spec.workers,
      // A worker that fails is started again (its claims go stale and are taken over meanwhile).
      backoffLimit: spec.workers * 2,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          ...(spec.serviceAccount ? { serviceAccountName: spec.serviceAccount } : {}),
          ...(spec.runtimeClass ? { runtimeClassName: spec.runtimeClass } : {}),
          containers: [workerContainer(spec)],
          volumes: [{ name: 'results', persistentVolumeClaim: { claimName: spec.pvc } }],
        },
      },
    },
  });
}

/** Checks a manifest against the Kubernetes OpenAPI schema (kubernetes-models' validators); a UsageError names the fields. */
export function validateManifest(job: Job): void {
  try {
    job.validate();
  } catch (error) {
    throw new UsageError(`the generated Kubernetes Job does not validate: ${errorMessage(error)}`, { cause: error });
  }
}

export function manifestYaml(job: Job): string {
  return stringify(job.toJSON(), { lineWidth: 0 });
}

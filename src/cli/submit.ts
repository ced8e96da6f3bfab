import { type Command, Option } from 'commander';
import { submitK8s } from '../submit/k8s.js';
import { formatSlurmSubmission, submitSlurm } from '../submit/slurm.js';
import { shellQuote } from '../util/shell.js';
import { withCancel } from './cancel.js';
import { positiveInt, positiveNumber } from './eval.js';
import type { RegisterCommand } from './registry.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** The flags every submitted worker gets (`skill-eval worker`). */
function workerOptions(command: Command): Command {
  return command
    .option('--concurrency <n>', "trials each worker runs at once (default: the job's)", positiveInt('--concurrency'))
    .option(
      '--stale-claim-timeout <sec>',
      "take over another host's claim when its heartbeat has not moved for this long (default: the worker's)",
      positiveNumber('--stale-claim-timeout'),
    );
}

function submitCommand(program: Command): Command {
  const existing = program.commands.find((command) => command.name() === 'submit');
  if (existing) return existing;
  return program
    .command('submit')
    .description('Run a planned job on a cluster: workers as a Slurm array job or a Kubernetes Indexed Job.');
}

interface SlurmFlags {
  workers: number;
  partition?: string;
  concurrency?: number;
  staleClaimTimeout?: number;
  dryRun?: boolean;
}

function registerSlurm(submit: Command): void {
  workerOptions(
    submit
      .command('slurm')
      .description(
        'Submit N `skill-eval worker` processes on a job as one Slurm array job (sbatch). Writes <job>/slurm/worker.sbatch; records the Slurm job id in <job>/slurm/submissions.jsonl.',
      )
      .argument('<job-dir>', 'the directory of a planned job (eval --plan-only prints it)')
      .argument('[sbatch-options...]', 'after `--`: options passed to sbatch as they are (--time=2:00:00 --qos=…)')
      .requiredOption('--workers <n>', 'array tasks, one worker each', positiveInt('--workers'))
      .option('--partition <name>', 'the Slurm partition (default: the cluster’s default partition)'),
  )
    .option('--dry-run', 'write the batch script and print the sbatch command without submitting')
    .action(async (jobDir: string, sbatchArgs: string[], flags: SlurmFlags) => {
      const submission = await withCancel((signal) =>
        submitSlurm({ jobDir, sbatchArgs, ...flags, signal }, process.cwd()),
      );
      process.stdout.write(`${formatSlurmSubmission(submission)}\n`);
    });
}

interface K8sFlags {
  workers: number;
  image: string;
  pvc: string;
  namespace?: string;
  name?: string;
  mountPath?: string;
  subPath?: string;
  serviceAccount?: string;
  secretEnv?: string[];
  env?: string[];
  runtimeClass?: string;
  cpu?: string;
  memory?: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  privileged?: boolean;
  concurrency?: number;
  staleClaimTimeout?: number;
  apply?: boolean;
}

function registerK8s(submit: Command): void {
  workerOptions(
    submit
      .command('k8s')
      .description(
        'Generate (and with --apply create) a Kubernetes Indexed Job of N pods, each a `skill-eval worker` over the job dir on a shared volume. Writes <job>/k8s/worker-job.yaml and prints it.',
      )
      .argument('<job-dir>', 'the directory of a planned job, on the volume the pods mount')
      .requiredOption('--workers <n>', 'pods, one worker each (completions = parallelism)', positiveInt('--workers'))
      .requiredOption('--image <ref>', 'the container image; it must have `skill-eval` on its PATH')
      .requiredOption('--pvc <claim>', 'the PersistentVolumeClaim that holds the job dir (ReadWriteMany)')
      .option('--namespace <ns>', 'the namespace of the Job', 'default')
      .option('--name <name>', 'the Job’s name (default: skill-eval-<job id>)')
      .option('--mount-path <dir>', 'where the volume is mounted in each pod (default: the results dir of the job)')
      .option('--sub-path <dir>', 'mount this folder of the volume instead of its root')
      .option('--service-account <name>', 'the pods’ service account')
      .option('--secret-env <secret>', 'a Secret whose keys become the worker’s environment (repeatable)', collect)
      .option('--env <name=value>', 'a plain environment variable of the worker (repeatable; not for secrets)', collect)
      .option('--runtime-class <name>', 'the pods’ RuntimeClass (e.g. gvisor: the pod is then the trials’ sandbox)')
      .option('--cpu <quantity>', 'CPU request and limit of each worker pod (e.g. 2, 500m)')
      .option('--memory <quantity>', 'memory request and limit of each worker pod (e.g. 4Gi)')
      .addOption(
        new Option('--image-pull-policy <policy>', 'the container’s imagePullPolicy').choices([
          'Always',
          'IfNotPresent',
          'Never',
        ]),
      )
      .option('--privileged', 'run the worker container privileged (the local sandbox needs it in most clusters)'),
  )
    .option('--apply', 'create the Job through the Kubernetes API (kubeconfig from $KUBECONFIG or ~/.kube/config)')
    .action(async (jobDir: string, flags: K8sFlags) => {
      const submission = await withCancel((signal) => submitK8s({ jobDir, ...flags, signal }, process.cwd()));
      process.stdout.write(submission.yaml);
      for (const warning of submission.warnings) console.error(`warning: ${warning}`);
      console.error(`wrote ${submission.manifestPath}`);
      if (submission.applied) {
        const { applied } = submission;
        console.error(
          `created Job ${applied.namespace}/${applied.name} on ${applied.server} (context ${applied.context}): ${submission.workers} worker(s) on job ${submission.jobId} (${submission.trials} trials)`,
        );
        console.error(`follow it: skill-eval status ${shellQuote(submission.jobDir)}`);
        console.error(
          `           kubectl --namespace=${applied.namespace} get pods --selector=job-name=${applied.name}`,
        );
      } else {
        console.error(
          `create it: kubectl apply -f ${shellQuote(submission.manifestPath)}   (or run again with --apply)`,
        );
      }
    });
}

/** `skill-eval submit slurm|k8s`: parses, runs submitSlurm / submitK8s (src/submit/), prints what was submitted. */
export const registerSubmit: RegisterCommand = (program) => {
  const submit = submitCommand(program);
  registerSlurm(submit);
  registerK8s(submit);
};

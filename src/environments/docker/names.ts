/** Labels, names and tags of everything skill-eval creates in the engine, so it can always be found and removed. */

/** On every container (and network/volume) skill-eval creates: `skill-eval cleanup` removes what carries it. */
export const LABEL_MANAGED = 'skill-eval';
export const LABEL_JOB = 'skill-eval.job';
export const LABEL_TRIAL = 'skill-eval.trial';
export const LABEL_TASK = 'skill-eval.task';
export const LABEL_TRIAL_NAME = 'skill-eval.trial-name';
/**
 * Host process (pid and host name) that created the container: `cleanup` and a resumed job remove only what a
 * dead owner left, never a running job's containers.
 */
export const LABEL_OWNER_PID = 'skill-eval.owner-pid';
export const LABEL_OWNER_HOST = 'skill-eval.owner-host';

/**
 * On images skill-eval builds. Deliberately not `skill-eval=1`: containers inherit their image's labels, and a
 * container someone starts by hand from a task image must not look like one of ours to `cleanup`.
 */
export const LABEL_IMAGE_KIND = 'skill-eval.image';
export const LABEL_CONTEXT_HASH = 'skill-eval.context-hash';
export const LABEL_LAYER_HASH = 'skill-eval.layer-hash';
export const LABEL_IMAGE_TASK = 'skill-eval.image-task';

/** Container names: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`. */
export function containerName(jobId: string, trialId: string): string {
  const raw = `skill-eval-${jobId}-${trialId}`.replace(/[^a-zA-Z0-9_.-]+/g, '-');
  // Keep the (random) trial id when shortening: it is what makes the name unique.
  if (raw.length <= 120) return raw;
  const tail = `-${trialId.replace(/[^a-zA-Z0-9_.-]+/g, '-')}`.slice(-40);
  return raw.slice(0, 120 - tail.length) + tail;
}

/** Repository part of an image reference: lowercase `[a-z0-9._-]`, no leading separator. */
export function imageRepository(taskName: string): string {
  const cleaned = taskName
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+/, '')
    .replace(/[._-]+$/, '')
    .replace(/[._-]{2,}/g, '-')
    .slice(0, 100);
  return `skill-eval/task-${cleaned || 'unnamed'}`;
}

/** Tags: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`. */
export function sanitizeTagPart(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[.-]+/, '');
}

/** Characters of the context hash used in tags; the full hash is kept in a label. */
export const TAG_HASH_LENGTH = 24;

export function taskImageTag(taskName: string, contextHash: string): string {
  return `${imageRepository(taskName)}:${contextHash.slice(0, TAG_HASH_LENGTH)}`;
}

export function layeredImageTag(baseTag: string, layerKeys: string[]): string {
  const suffix = layerKeys.map(sanitizeTagPart).join('-');
  const [repository, tag] = splitTag(baseTag);
  return `${repository}:${`${tag}-${suffix}`.slice(0, 128)}`;
}

function splitTag(reference: string): [string, string] {
  const colon = reference.lastIndexOf(':');
  if (colon <= reference.lastIndexOf('/')) return [reference, 'latest'];
  return [reference.slice(0, colon), reference.slice(colon + 1)];
}

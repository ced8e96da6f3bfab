import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { errorMessage, InfraError, TaskFormatError } from '../../errors.js';
import type { Task } from '../../task/types.js';
import type { ImageLayer, PrepareContext, PreparedEnvironment } from '../types.js';
import { buildImage } from './build.js';
import { dockerTaskProblems } from './checks.js';
import { packContext, packFiles, planBuildContext } from './context.js';
import { httpStatus } from './engine.js';
import {
  LABEL_CONTEXT_HASH,
  LABEL_IMAGE_KIND,
  LABEL_IMAGE_TASK,
  LABEL_LAYER_HASH,
  layeredImageTag,
  taskImageTag,
} from './names.js';

/**
 * Images: one per task (content-addressed, built once, reused across jobs), plus one per stack of extra layers
 * (agent CLIs baked in). `prepare` resolves them into the handle containers are created from.
 */

/** What `prepare` hands to `createWorkspace` (PreparedEnvironment.handle). */
export interface DockerHandle {
  /** The reference containers are created from (tag, or the task's docker_image). */
  image: string;
  imageId: string;
  /** The image's WORKDIR, `/app` when it has none. */
  workdir: string;
  /** True when the image has no WORKDIR and `/app` must be created. */
  createWorkdir: boolean;
  /** The image's USER (`''` = root). */
  imageUser: string;
  /** The Harbor log directories are in the image (built from a Dockerfile): nothing to create per trial. */
  harborDirsBaked: boolean;
  source: 'dockerfile' | 'docker_image';
  contextHash?: string | undefined;
}

export interface ImageOptions {
  docker: Docker;
  /** Rebuild regardless of the cache (with the provider's forceBuild or the context's). */
  force: boolean;
  /** Network for RUN steps of builds. */
  buildNetwork: string | undefined;
}

interface TaskImage {
  image: string;
  imageId: string;
  built: boolean;
  source: 'dockerfile' | 'docker_image';
  contextHash?: string | undefined;
  notes: string[];
}

const DEFAULT_WORKDIR = '/app';

function hashLayer(baseImageId: string, layer: ImageLayer): string {
  const hash = createHash('sha256');
  hash.update(`skill-eval/layer@1\0${baseImageId}\0${layer.key}\0${JSON.stringify(layer.dockerfileLines)}\0`);
  for (const [path, entry] of Object.entries(layer.files ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const content = typeof entry === 'string' || entry instanceof Uint8Array ? entry : entry.content;
    const mode = typeof entry === 'string' || entry instanceof Uint8Array ? 0o644 : entry.mode;
    hash.update(`${path}\0${mode.toString(8)}\0`);
    hash.update(typeof content === 'string' ? content : Buffer.from(content));
    hash.update('\0');
  }
  return hash.digest('hex');
}

export async function inspectImage(docker: Docker, reference: string): Promise<Docker.ImageInspectInfo | undefined> {
  try {
    return await docker.getImage(reference).inspect();
  } catch (error) {
    if (httpStatus(error) === 404) return undefined;
    throw new InfraError(`inspecting image ${reference} failed: ${errorMessage(error)}`, { cause: error });
  }
}

/** A rebuild moved the tag: drop the old image unless something still uses it (best effort, never throws). */
async function removeReplacedImage(docker: Docker, imageId: string): Promise<void> {
  try {
    const info = await docker.getImage(imageId).inspect();
    if ((info.RepoTags ?? []).length === 0) await docker.getImage(imageId).remove();
  } catch {
    // in use by a container or another tag: it stays
  }
}

/** Inspects what a build just tagged, and drops the image the tag pointed at before. */
async function builtImage(docker: Docker, tag: string, replaced: Docker.ImageInspectInfo | undefined) {
  const info = await inspectImage(docker, tag);
  if (!info) throw new InfraError(`the build of ${tag} reported success but the image is missing`);
  if (replaced && replaced.Id !== info.Id) await removeReplacedImage(docker, replaced.Id);
  return info;
}

async function existingImage(reference: string, options: ImageOptions, context: PrepareContext) {
  const info = await inspectImage(options.docker, reference);
  if (!info) {
    throw new InfraError(`image ${reference} ([environment].docker_image) is not in the Docker engine`, {
      retryable: false,
      hint: `no registry is reachable from here, so it cannot be pulled: build it (docker build -t ${reference} …) or load it (docker load -i image.tar) first`,
    });
  }
  context.log(`docker: using ${reference} (${info.Id.slice(7, 19)}) from [environment].docker_image`);
  const notes = [`image: ${reference} ([environment].docker_image)`];
  return { image: reference, imageId: info.Id, built: false, source: 'docker_image', notes } satisfies TaskImage;
}

/** The task's own image: its docker_image, or built from its Dockerfile unless an image of the same context exists. */
export async function resolveTaskImage(task: Task, options: ImageOptions, context: PrepareContext): Promise<TaskImage> {
  const reference = task.config.environment.dockerImage;
  if (reference !== undefined) return existingImage(reference, options, context);
  if (task.paths.dockerfile === undefined) throw new TaskFormatError(dockerTaskProblems(task));
  const { docker, force } = options;
  const plan = await planBuildContext({ taskDir: task.dir, dockerfile: task.paths.dockerfile });
  const notes = [...plan.notes];
  const tag = taskImageTag(task.name, plan.hash);
  const existing = await inspectImage(docker, tag);
  if (!force && existing && existing.Config.Labels?.[LABEL_CONTEXT_HASH] === plan.hash) {
    context.log(`docker: ${tag} is up to date (no build)`);
    notes.push(`image: ${tag} (cached)`);
    return { image: tag, imageId: existing.Id, built: false, source: 'dockerfile', contextHash: plan.hash, notes };
  }
  context.log(
    `docker: building ${tag} from ${plan.kind === 'environment' ? 'environment/' : 'the task root'} (${plan.entries.length} context entries)${force ? ', forced' : ''}`,
  );
  for (const note of plan.notes) context.log(`docker: ${note}`);
  const started = performance.now();
  await buildImage(docker, {
    context: packContext(plan),
    dockerfile: plan.dockerfile,
    tag,
    labels: { [LABEL_IMAGE_KIND]: 'task', [LABEL_CONTEXT_HASH]: plan.hash, [LABEL_IMAGE_TASK]: task.name },
    noCache: force,
    networkMode: options.buildNetwork,
    timeoutMs: task.config.environment.buildTimeoutSec * 1000,
    signal: context.signal,
    log: context.log,
  });
  const info = await builtImage(docker, tag, existing);
  context.log(`docker: built ${tag} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  notes.push(`image: ${tag} (built)`);
  return { image: tag, imageId: info.Id, built: true, source: 'dockerfile', contextHash: plan.hash, notes };
}

/** One extra layer on `current`: reused when an image of the same base and content exists, built otherwise. */
async function applyLayer(
  tag: string,
  current: TaskImage,
  layer: ImageLayer,
  options: ImageOptions,
  context: PrepareContext,
) {
  const { docker, force } = options;
  const hash = hashLayer(current.imageId, layer);
  const existing = await inspectImage(docker, tag);
  if (!force && existing && existing.Config.Labels?.[LABEL_LAYER_HASH] === hash) {
    context.log(`docker: layer ${layer.key}: ${tag} is up to date (no build)`);
    return {
      ...current,
      image: tag,
      imageId: existing.Id,
      notes: [...current.notes, `layer ${layer.key}: ${tag} (cached)`],
    };
  }
  const dockerfileName = 'Dockerfile.skill-eval-layer';
  const files = Object.entries(layer.files ?? {}).map(([path, entry]) =>
    typeof entry === 'string' || entry instanceof Uint8Array
      ? { path, content: entry }
      : { path, content: entry.content, mode: entry.mode },
  );
  files.push({ path: dockerfileName, content: [`FROM ${current.image}`, ...layer.dockerfileLines, ''].join('\n') });
  context.log(`docker: building layer ${layer.key} as ${tag}`);
  await buildImage(docker, {
    context: packFiles(files),
    dockerfile: dockerfileName,
    tag,
    labels: { [LABEL_IMAGE_KIND]: 'layer', [LABEL_LAYER_HASH]: hash },
    noCache: force,
    networkMode: options.buildNetwork,
    timeoutMs: 30 * 60 * 1000,
    signal: context.signal,
    log: context.log,
  });
  const info = await builtImage(docker, tag, existing);
  const notes = [...current.notes, `layer ${layer.key}: ${tag} (built)`];
  return { ...current, image: tag, imageId: info.Id, built: true, notes };
}

/** The layers stacked on the task's image, in order: `skill-eval/task-<name>:<hash>-<key>-<key>…`. */
export async function applyLayers(
  task: Task,
  base: TaskImage,
  layers: ImageLayer[],
  options: ImageOptions,
  context: PrepareContext,
): Promise<TaskImage> {
  // A docker_image base has no context hash: its image id stands in for it.
  const baseTag =
    base.source === 'dockerfile' ? base.image : taskImageTag(task.name, base.imageId.replace(/^sha256:/, ''));
  let current = base;
  const keys: string[] = [];
  for (const layer of layers) {
    keys.push(layer.key);
    current = await applyLayer(layeredImageTag(baseTag, keys), current, layer, options, context);
  }
  return current;
}

/**
 * The task's image with the context's layers, as a prepared environment. `taskImages` (one per provider) keeps
 * each task's own image across the agents' layer stacks of a job: resolved once, however many stacks sit on it.
 */
export async function prepareImage(
  task: Task,
  context: PrepareContext,
  options: ImageOptions,
  taskImages: Map<string, Promise<TaskImage>>,
): Promise<PreparedEnvironment<DockerHandle>> {
  let taskImage = taskImages.get(task.dir);
  const resolvedHere = taskImage === undefined;
  if (!taskImage) {
    taskImage = resolveTaskImage(task, options, context);
    taskImages.set(task.dir, taskImage);
    taskImage.catch(() => taskImages.delete(task.dir)); // a failed build may be retried
  }
  const cached = await taskImage;
  // Only the call that resolved the task image did its build.
  const base = resolvedHere ? cached : { ...cached, built: false };
  const image = context.layers?.length ? await applyLayers(task, base, context.layers, options, context) : base;
  const info = await inspectImage(options.docker, image.imageId);
  if (!info) throw new InfraError(`image ${image.image} disappeared from the engine`);
  const handle: DockerHandle = {
    image: image.image,
    imageId: image.imageId,
    workdir: info.Config.WorkingDir || DEFAULT_WORKDIR,
    createWorkdir: !info.Config.WorkingDir,
    imageUser: info.Config.User ?? '',
    harborDirsBaked: image.source === 'dockerfile',
    source: image.source,
    contextHash: image.contextHash,
  };
  return { task, handle, built: image.built || base.built, notes: image.notes };
}

export type { TaskImage };

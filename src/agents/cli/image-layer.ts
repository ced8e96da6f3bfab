import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join, posix, relative } from 'node:path';
import type { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { buildImage } from '../../environments/docker/build.js';
import { createEngineClient } from '../../environments/docker/engine.js';
import { LABEL_IMAGE_KIND } from '../../environments/docker/names.js';
import type { ImageLayer } from '../../environments/types.js';
import { InfraError } from '../../errors.js';
import { type AgentPackage, ensureInstalled, type InstalledCli, resolveLaunch } from './install.js';
import { imageLauncher } from './run.js';

/**
 * Docker: agent CLIs are baked into images, never installed per trial. Once per agent and version, an agent
 * image `skill-eval/agent-<agent>:<version>` (FROM scratch) is built from the host's install cache, holding
 * just what the CLI needs under /opt/skill-eval/agents/<agent>@<version>/ plus a `launch` script; each task
 * image then gets a layer that copies that directory in (`COPY --from`), keyed by agent and version.
 * Node-based CLIs (Gemini) take this machine's Node binary along, since task images rarely have Node ≥ 20.
 * The binaries are the host's: this needs a Linux host of the same architecture as the containers.
 */

const LABEL_AGENT_HASH = 'skill-eval.agent-hash';

function agentImageTag(pkg: AgentPackage): string {
  return `skill-eval/agent-${pkg.agent}:${pkg.version}${pkg.revision ? `-${pkg.revision}` : ''}`;
}

interface ImageFile {
  hostPath: string;
  /** Path inside the agent directory. */
  path: string;
  mode: number;
}

async function listTree(root: string, dir: string, into: ImageFile[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await listTree(root, path, into);
    else if (entry.isFile())
      into.push({ hostPath: path, path: relative(root, path), mode: statSync(path).mode & 0o777 });
    else if (entry.isSymbolicLink()) {
      // npm's .bin links and the like: follow them, a copy is as good here.
      const info = statSync(path, { throwIfNoEntry: false });
      if (info?.isFile()) into.push({ hostPath: path, path: relative(root, path), mode: info.mode & 0o777 });
    }
  }
}

/** What goes into the agent image and the launcher that starts it. */
async function planAgentImage(
  pkg: AgentPackage,
  installed: InstalledCli,
): Promise<{ files: ImageFile[]; launcher: string }> {
  const argv = resolveLaunch(pkg, installed.root, process.execPath);
  if (!argv)
    throw new InfraError(`${pkg.npmPackage}@${pkg.version} in ${installed.root} has no entry point`, {
      retryable: false,
    });
  const dir = posix.dirname(imageLauncher(pkg));
  const files: ImageFile[] = [];
  let command: string;
  if (argv.length === 2) {
    // `node <script>`: the script's whole package tree (bundles load their chunks) and this Node binary.
    await listTree(installed.root, join(installed.root, 'node_modules'), files);
    // A script skill-eval put next to the packages (the ACP bridge) goes along too.
    const script = relative(installed.root, argv[1]!);
    if (!script.startsWith('node_modules/')) files.push({ hostPath: argv[1]!, path: script, mode: 0o644 });
    files.push({ hostPath: process.execPath, path: 'node/bin/node', mode: 0o755 });
    command = `"$DIR/node/bin/node" "$DIR/${relative(installed.root, argv[1]!)}"`;
  } else {
    // A native binary: just it.
    const binary = argv[0]!;
    files.push({ hostPath: binary, path: relative(installed.root, binary), mode: 0o755 });
    command = `"$DIR/${relative(installed.root, binary)}"`;
  }
  for (const extra of pkg.pathDirs ?? []) {
    const hostDir = join(installed.root, extra);
    if (statSync(hostDir, { throwIfNoEntry: false })?.isDirectory()) await listTree(installed.root, hostDir, files);
  }
  const launcher = [
    '#!/bin/sh',
    `# ${pkg.npmPackage}@${pkg.version}, baked in by skill-eval`,
    `DIR=${dir}`,
    `exec ${command} "$@"`,
    '',
  ].join('\n');
  return { files, launcher };
}

/** A tar stream of host files (read as they are packed, never all in memory) plus in-memory ones. */
function packFromDisk(files: ImageFile[], extra: Array<{ path: string; content: string; mode: number }>): Readable {
  const pack = tarStream.pack();
  void (async () => {
    try {
      for (const file of extra) {
        await new Promise<void>((done, fail) =>
          pack.entry({ name: file.path, mode: file.mode, uid: 0, gid: 0, type: 'file' }, file.content, (error) =>
            error ? fail(error) : done(),
          ),
        );
      }
      for (const file of files) {
        const size = statSync(file.hostPath).size;
        await new Promise<void>((done, fail) => {
          const entry = pack.entry({ name: file.path, mode: file.mode, uid: 0, gid: 0, type: 'file', size }, (error) =>
            error ? fail(error) : done(),
          );
          createReadStream(file.hostPath).on('error', fail).pipe(entry);
        });
      }
      pack.finalize();
    } catch (error) {
      pack.destroy(error as Error);
    }
  })();
  return pack as unknown as Readable;
}

export interface LayerOptions {
  signal?: AbortSignal | undefined;
  log: (line: string) => void;
}

/**
 * The layer for PrepareContext.layers: builds the agent image first when it is missing or stale (the host
 * cache changed), then names it in a `COPY --from`. The agent image's id is part of the layer's text, so a
 * rebuilt agent image also rebuilds the task layers that use it.
 */
export async function agentImageLayer(pkg: AgentPackage, options: LayerOptions): Promise<ImageLayer> {
  if (process.platform !== 'linux') {
    throw new InfraError(
      `the ${pkg.agent} image layer is built from this machine's install of ${pkg.npmPackage}, which needs a Linux host`,
      {
        retryable: false,
        hint: 'run Docker trials from Linux, or use --provider=local',
      },
    );
  }
  const installed = await ensureInstalled(pkg, { signal: options.signal, log: options.log });
  const plan = await planAgentImage(pkg, installed);
  const hash = createHash('sha256');
  hash.update(`skill-eval/agent-image@1\0${pkg.npmPackage}@${pkg.version}\0${plan.launcher}\0`);
  for (const file of plan.files) hash.update(`${file.path}\0${file.mode}\0${statSync(file.hostPath).size}\0`);
  const digest = hash.digest('hex');
  const tag = agentImageTag(pkg);
  const docker = createEngineClient();
  const existing = await docker
    .getImage(tag)
    .inspect()
    .catch(() => undefined);
  let imageId = existing?.Config?.Labels?.[LABEL_AGENT_HASH] === digest ? existing.Id : undefined;
  if (imageId === undefined) {
    const dir = posix.dirname(imageLauncher(pkg));
    options.log(`docker: building agent image ${tag} from ${installed.root}`);
    await buildImage(docker, {
      context: packFromDisk(
        plan.files.map((f) => ({ ...f, path: posix.join('agent', f.path) })),
        [
          { path: 'Dockerfile', content: ['FROM scratch', `COPY agent/ ${dir}/`, ''].join('\n'), mode: 0o644 },
          { path: 'agent/launch', content: plan.launcher, mode: 0o755 },
        ],
      ),
      dockerfile: 'Dockerfile',
      tag,
      labels: { [LABEL_IMAGE_KIND]: 'agent', [LABEL_AGENT_HASH]: digest },
      noCache: false,
      timeoutMs: 30 * 60_000,
      signal: options.signal,
      log: options.log,
    });
    const built = await docker
      .getImage(tag)
      .inspect()
      .catch(() => undefined);
    if (!built) throw new InfraError(`the build of ${tag} reported success but the image is missing`);
    imageId = built.Id;
  }
  const dir = dirname(imageLauncher(pkg));
  return {
    key: `${pkg.agent}-${pkg.version}${pkg.revision ? `-${pkg.revision}` : ''}`,
    dockerfileLines: [
      `# ${pkg.npmPackage}@${pkg.version} from ${tag} (${imageId})`,
      `COPY --from=${tag} ${dir}/ ${dir}/`,
    ],
  };
}

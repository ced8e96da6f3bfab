import { createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { buildImage } from '../environments/docker/build.js';
import { createEngineClient } from '../environments/docker/engine.js';
import { LABEL_IMAGE_KIND } from '../environments/docker/names.js';
import type { ImageLayer } from '../environments/types.js';
import { InfraError } from '../errors.js';
import { GATEWAY_IMAGE_NODE } from './forwarder.js';

/**
 * Docker: the forwarder (src/gateway/forwarder.ts) needs a Node.js binary inside the container, and task images
 * rarely have one. As for the agent CLIs (src/agents/cli/image-layer.ts), this machine's Node binary is built once
 * into `skill-eval/gateway-node:<version>` (FROM scratch) and every task image of an API agent gets a layer that
 * copies it to GATEWAY_IMAGE_NODE. A Linux host of the containers' architecture is needed, as for the CLIs.
 */

const LABEL_NODE_SIZE = 'skill-eval.node-size';

function nodeImageTag(): string {
  return `skill-eval/gateway-node:${process.version.replace(/^v/, '')}-${process.arch}`;
}

function nodeContext(): Readable {
  const pack = tarStream.pack();
  const size = statSync(process.execPath).size;
  const dockerfile = `FROM scratch\nCOPY node ${GATEWAY_IMAGE_NODE}\n`;
  pack.entry({ name: 'Dockerfile', mode: 0o644 }, dockerfile, (error) => {
    if (error) return pack.destroy(error);
    const entry = pack.entry({ name: 'node', mode: 0o755, size, type: 'file' }, (failed) =>
      failed ? pack.destroy(failed) : pack.finalize(),
    );
    createReadStream(process.execPath)
      .on('error', (failed) => pack.destroy(failed))
      .pipe(entry);
  });
  return pack as unknown as Readable;
}

/** The layer for PrepareContext.layers: builds the Node image first when it is missing. */
export async function gatewayNodeLayer(options: {
  signal?: AbortSignal | undefined;
  log: (line: string) => void;
}): Promise<ImageLayer> {
  if (process.platform !== 'linux')
    throw new InfraError("the model gateway's forwarder layer is built from this machine's Node, which needs Linux", {
      retryable: false,
      hint: 'run Docker trials from Linux, use --provider=local, or --no-gateway',
    });
  const tag = nodeImageTag();
  const size = String(statSync(process.execPath).size);
  const docker = createEngineClient();
  const existing = await docker
    .getImage(tag)
    .inspect()
    .catch(() => undefined);
  let imageId = existing?.Config?.Labels?.[LABEL_NODE_SIZE] === size ? existing.Id : undefined;
  if (imageId === undefined) {
    options.log(`docker: building ${tag} (Node for the model gateway's forwarder)`);
    await buildImage(docker, {
      context: nodeContext(),
      dockerfile: 'Dockerfile',
      tag,
      labels: { [LABEL_IMAGE_KIND]: 'gateway-node', [LABEL_NODE_SIZE]: size },
      noCache: false,
      timeoutMs: 10 * 60_000,
      signal: options.signal,
      log: options.log,
    });
    imageId = (await docker.getImage(tag).inspect()).Id;
  }
  return {
    key: `gateway-node-${process.version}`,
    dockerfileLines: [
      `# Node for the model gateway's forwarder, from ${tag} (${imageId})`,
      `COPY --from=${tag} ${GATEWAY_IMAGE_NODE} ${GATEWAY_IMAGE_NODE}`,
    ],
  };
}

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentPackage } from '../cli/install.js';

/**
 * The ACP bridge (bridge.mjs, the protocol's client side) runs inside the trial's environment, so it is installed
 * like an agent CLI: the pinned official SDK from npm into the agent cache, the bridge script next to it, baked
 * into Docker images by the same image layer. The script's hash is the package's revision: a changed bridge is
 * installed afresh.
 */

const BRIDGE_SOURCE = readFileSync(new URL('./bridge.mjs', import.meta.url), 'utf8');
const BRIDGE_FILE = 'acp-bridge.mjs';

export const ACP_BRIDGE_PACKAGE: AgentPackage = {
  agent: 'acp-bridge',
  npmPackage: '@agentclientprotocol/sdk',
  version: '2.4.0',
  revision: createHash('sha256').update(BRIDGE_SOURCE).digest('hex').slice(0, 12),
  launch: [{ path: BRIDGE_FILE, node: true }],
  postInstall: async (root) => {
    await writeFile(join(root, BRIDGE_FILE), BRIDGE_SOURCE);
  },
};

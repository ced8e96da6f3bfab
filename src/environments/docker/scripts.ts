import { readFileSync } from 'node:fs';

/**
 * The shell programs the provider runs in containers, kept as .sh files beside this one (shellcheck reads them;
 * `pnpm build` copies them next to the compiled code, scripts/copy-assets.mjs). Each is handed to `bash -c` as a
 * whole: pieces that several programs share (the loopback names, stop_all) are prepended here.
 */
function read(name: string): string {
  return readFileSync(new URL(name, import.meta.url), 'utf8');
}

const loopbackHosts = read('./loopback-hosts.sh');
const stopAll = read('./stop-all.sh');

export const SCRIPTS = {
  /** PID 1 of every trial container. */
  keepalive: `${loopbackHosts}\n${read('./keepalive.sh')}`,
  /** The wrapper of every workspace command: `bash -c exec skill-eval-exec COMMAND`. */
  exec: `${loopbackHosts}\n${read('./exec.sh')}`,
  /** `SIG PGID [SID]`: signals a command's process group and the rest of its session. */
  killGroup: read('./kill-group.sh'),
  /** `GRACE`: stops every process an exec started (Workspace.stopAll). */
  stopAll: `${stopAll}\nstop_all "$1"\n`,
  /** The whole verification in one exec (verify.ts). */
  verify: `${stopAll}\n${read('./verify.sh')}`,
} as const;

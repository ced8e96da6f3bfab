import { posix } from 'node:path';

/**
 * The rule for a symbolic link in collected logs, the same for every provider: it is kept only when it is relative
 * and stays inside its collected directory (then it means the same on the host). Any other link would point into
 * the host's file system once the logs are out of the environment.
 */
export function linkStaysInside(envLinkPath: string, target: string, envRoot: string): boolean {
  return !posix.isAbsolute(target) && posix.resolve(posix.dirname(envLinkPath), target).startsWith(`${envRoot}/`);
}

/** How a link left out by that rule is reported in the trial's notes. */
export function linkLeftOut(envLinkPath: string, target: string, envRoot: string): string {
  return `${envLinkPath} → ${target}: a symbolic link out of ${envRoot}`;
}

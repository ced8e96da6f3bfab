import type { Task } from '../task/types.js';
import { directoryChecksum } from '../util/file-tree.js';

const digests = new WeakMap<Task, Promise<string>>();

/**
 * sha256 of the task's tests/ directory — what verification copies in, so what decides a reward (graders live
 * there too) — once per loaded task. task_checksum covers the whole task directory (instruction, environment…).
 */
export function verifierDigest(task: Task): Promise<string> {
  let digest = digests.get(task);
  if (!digest) {
    digest = directoryChecksum(task.paths.testsDir);
    digests.set(task, digest);
  }
  return digest;
}

import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where skill-eval caches what it fetches once per machine (agent CLIs, git skills):
 * `$SKILL_EVAL_CACHE_DIR`, else `$XDG_CACHE_HOME/skill-eval`, else `~/.cache/skill-eval`.
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SKILL_EVAL_CACHE_DIR) return env.SKILL_EVAL_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'skill-eval');
  return join(homedir(), '.cache', 'skill-eval');
}

import { TAMPER_KINDS, type TamperAudit, type TamperFinding } from '../../results/schema.js';
import type { Change } from './snapshot.js';

const MAX_FINDINGS = 50;
const KINDS: ReadonlySet<string> = new Set(TAMPER_KINDS);

/** The tamper block from the snapshot changes; `display` maps environment paths to the task's view. */
export function tamperAudit(changes: readonly Change[], display: (path: string) => string): TamperAudit {
  const findings: TamperFinding[] = changes
    .filter((change) => KINDS.has(change.area))
    .map((change) => ({
      kind: change.area as TamperFinding['kind'],
      change: change.change,
      path: display(change.path),
    }));
  const audit: TamperAudit = {
    checked: true,
    tampered: findings.length > 0,
    findings: findings.slice(0, MAX_FINDINGS),
  };
  if (findings.length > MAX_FINDINGS) audit.more = findings.length - MAX_FINDINGS;
  return audit;
}

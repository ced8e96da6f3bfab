import type { Arm } from '../results/read.js';
import type { Interval } from './estimators.js';
import { CORRECTION_LABELS, type Correction } from './multiplicity.js';
import type {
  ArmStats,
  ArmSummary,
  ConfigReport,
  ConfigSummary,
  CostReport,
  FlaggedTrials,
  FunnelReport,
  FunnelStage,
  HurtTask,
  TaskRow,
} from './report.js';

/** Number formatting shared by the terminal, Markdown and HTML outputs, so they never disagree. */

export const NO_VALUE = '—';

export const ARM_LABELS: Record<string, string> = { 'no-skills': 'No Skill', 'with-skills': 'With Skill' };

export type ComparedArms = ConfigSummary['comparison'];
const USUAL: ComparedArms = { baseline: 'no-skills', treatment: 'with-skills' };

/** `No Skill`, `With Skill`, or the arm's own name (skill-as-prompt, skill-variant:pdf=./v2, …). */
export function armLabel(arm: Arm): string {
  return ARM_LABELS[arm] ?? arm;
}

/** `No skill`, `skill-as-prompt`: as a sentence starts. */
function armWords(arm: Arm): string {
  const label = armLabel(arm);
  return ARM_LABELS[arm] ? `${label[0]}${label.slice(1).toLowerCase()}` : label;
}

/** How the outputs name a comparison's sides: the words of earlier versions for the usual pair. */
export function comparisonWords(comparison: ComparedArms = USUAL) {
  const usual = comparison.baseline === USUAL.baseline && comparison.treatment === USUAL.treatment;
  const { baseline, treatment } = comparison;
  return {
    usual,
    title: `${treatment} vs ${baseline}`,
    baseline: armWords(baseline),
    treatment: armWords(treatment),
    delta: usual ? 'Δ (with − without)' : `Δ (${treatment} − ${baseline})`,
    arrow: usual ? 'no skill → with skill' : `${baseline} → ${treatment}`,
    treatmentTrials: usual ? 'with-skill trials' : `${treatment} trials`,
  };
}

export function formatPercent(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}

/** Interval bounds in percent: one decimal, with the exact ends written as 0 and 100. */
export function formatBound(rate: number): string {
  if (rate <= 0) return '0';
  if (rate >= 1) return '100';
  return (rate * 100).toFixed(1);
}

export function formatInterval(interval: Interval | undefined): string {
  return interval ? `[${formatBound(interval.low)}–${formatBound(interval.high)}]` : '';
}

/** `20.0% [3.6–62.4] (n=5)`: the rate never without its interval and sample size. */
export function formatArmRate(stats: ArmStats | undefined): string {
  if (!stats) return 'no data';
  return `${formatPercent(stats.passRate)} ${formatInterval(stats.passRateCi)} (n=${stats.trials})`;
}

/** `62.5% ±12.3 pp (8 tasks)`: macro mean with its task-level interval. */
export function formatArmSummary(summary: ArmSummary | undefined): string {
  if (!summary) return 'no data';
  const spread =
    summary.passRateCiHalfWidth === undefined ? '± n/a' : `±${(summary.passRateCiHalfWidth * 100).toFixed(1)} pp`;
  return `${formatPercent(summary.passRate)} ${spread} (${summary.tasks} ${summary.tasks === 1 ? 'task' : 'tasks'})`;
}

export function formatGain(gain: number | undefined): string {
  return gain === undefined ? NO_VALUE : gain.toFixed(2);
}

export function formatDeltaPp(deltaPp: number | undefined): string {
  if (deltaPp === undefined) return NO_VALUE;
  const rounded = Math.abs(deltaPp) < 0.05 ? 0 : deltaPp;
  return `${rounded > 0 ? '+' : ''}${rounded.toFixed(1)} pp`;
}

export function formatPValue(pValue: number, name = 'p'): string {
  return pValue < 0.001 ? `${name}<0.001` : `${name}=${pValue.toFixed(3)}`;
}

/** `p=0.048, Holm p=0.095`: the raw p, then the corrected one the verdict reads (or "uncorrected"). */
export function formatPValues(pValue: number, adjustedPValue: number | undefined, correction: Correction): string {
  if (correction === 'none' || adjustedPValue === undefined) return `${formatPValue(pValue)}, uncorrected`;
  return `${formatPValue(pValue)}, ${formatPValue(adjustedPValue, `${CORRECTION_LABELS[correction]} p`)}`;
}

/** `Holm-adjusted p < 0.05`, `uncorrected p < 0.05`: what a verdict was decided on. */
export function correctionRule(correction: Correction): string {
  return correction === 'none' ? 'uncorrected p < 0.05' : `${CORRECTION_LABELS[correction]}-adjusted p < 0.05`;
}

/** The correction in a sentence, for the outputs' method notes. */
export function correctionMethod(correction: Correction): string {
  if (correction === 'holm') return 'p corrected across the tasks of each configuration by Holm (1979)';
  if (correction === 'bh') return 'p corrected across the tasks of each configuration by Benjamini–Hochberg (1995)';
  return 'p not corrected for testing many tasks';
}

export function formatVerdict(row: TaskRow, correction: Correction, comparison: ComparedArms = USUAL): string {
  const { significance } = row;
  if (significance.verdict === 'no data') {
    const missing = [comparison.baseline, comparison.treatment].filter((arm) => !row.arms[arm]);
    return `no data (${missing.join(', ')} missing)`;
  }
  const p =
    significance.pValue === undefined
      ? ''
      : ` (${formatPValues(significance.pValue, significance.adjustedPValue, correction)})`;
  const noise = row.withinNoise ? ', within noise floor' : '';
  if (significance.verdict === 'significant') return `significant: ${significance.direction ?? ''}${p}${noise}`;
  return `inconclusive${p}${noise}`;
}

/** `95% CI +10.0 to +95.0 pp`: the bootstrap interval of the aggregate Δ. */
export function formatDeltaInterval(interval: Interval): string {
  return `95% CI ${formatDeltaPp(interval.low).replace(' pp', '')} to ${formatDeltaPp(interval.high)}`;
}

/** `+52.5 pp (95% CI +10.0 to +95.0 pp, bootstrap over tasks)`. */
export function formatDeltaWithInterval(
  deltaPp: number | undefined,
  interval: Interval | undefined,
  tasks: number,
): string {
  if (deltaPp === undefined) return formatDeltaPp(deltaPp);
  if (!interval) return `${formatDeltaPp(deltaPp)} (no CI: ${tasks === 1 ? 'one paired task' : 'no paired task'})`;
  return `${formatDeltaPp(deltaPp)} (${formatDeltaInterval(interval)}, bootstrap over tasks)`;
}

/** `lint (−20.0 pp, p=0.400, Holm p=1.000)`. */
export function formatHurtTask(hurt: HurtTask, correction: Correction): string {
  const p = hurt.pValue === undefined ? '' : `, ${formatPValues(hurt.pValue, hurt.adjustedPValue, correction)}`;
  return `${hurt.task} (${formatDeltaPp(hurt.deltaPp)}${p}${hurt.significant ? ', significant' : ''})`;
}

export function formatDurationMs(ms: number | undefined): string {
  if (ms === undefined) return NO_VALUE;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

export function formatCount(value: number | undefined): string {
  if (value === undefined) return NO_VALUE;
  if (value >= 1_000_000) return `${(value / 1_000_000).toFixed(1)}M`;
  if (value >= 10_000) return `${Math.round(value / 1000)}k`;
  return String(Math.round(value));
}

/** The summary facts of one configuration, as short labelled strings (terminal and Markdown). */
export function summaryFacts(config: ConfigReport): Array<[string, string]> {
  const { summary } = config;
  const { baseline, treatment } = summary.comparison;
  const words = comparisonWords(summary.comparison);
  const facts: Array<[string, string]> = [
    [`${words.baseline} (macro mean, task-level 95% CI)`, formatArmSummary(summary.arms[baseline])],
    [`${words.treatment} (macro mean, task-level 95% CI)`, formatArmSummary(summary.arms[treatment])],
  ];
  const paired = summary.paired;
  const pairedNote = paired.tasks === config.tasks.length ? '' : ` over the ${paired.tasks} tasks with both arms`;
  facts.push([words.delta, `${formatDeltaWithInterval(paired.deltaPp, paired.deltaPpCi, paired.tasks)}${pairedNote}`]);
  facts.push([
    'Normalized gain g (aggregate)',
    `${formatGain(paired.gain)}${paired.gain === undefined && paired.passRateWithout === 1 ? ' (baseline 100%)' : ''}`,
  ]);
  facts.push([
    'Tasks where skills hurt (Δ < 0)',
    `${summary.hurtTasks.length} of ${paired.tasks}${summary.hurtTasks.length > 0 ? `: ${summary.hurtTasks.map((hurt) => formatHurtTask(hurt, summary.correction)).join('; ')}` : ''}`,
  ]);
  facts.push([
    `Significant (Fisher, ${correctionRule(summary.correction)})`,
    `${summary.significantlyBetterTasks} better, ${summary.significantlyWorseTasks} worse${summary.correction === 'none' ? '' : ` (corrected over ${plural(summary.testedTasks, 'tested task')})`}`,
  ]);
  facts.push([
    'Skill activation',
    summary.skillActivation
      ? `${formatPercent(summary.skillActivation.rate)} of ${words.treatmentTrials} (${summary.skillActivation.activated}/${summary.skillActivation.reported} that reported it)`
      : 'not reported',
  ]);
  if (summary.funnel)
    facts.push([`Activation funnel (${words.usual ? 'with skill' : treatment})`, formatFunnel(summary.funnel)]);
  const cost = formatCost(summary.cost, summary.comparison);
  if (cost) facts.push([`Cost per arm (${words.arrow})`, cost]);
  if (summary.withinNoiseTasks)
    facts.push([
      `Within the noise floor (|Δ| < ${summary.noiseFloorPp?.toFixed(1)} pp)`,
      `${summary.withinNoiseTasks.length} of ${paired.tasks}${summary.withinNoiseTasks.length > 0 ? `: ${summary.withinNoiseTasks.join(', ')}` : ''}`,
    ]);
  if (summary.aa)
    facts.push([
      'A/A: |Δ| from noise alone',
      `95th percentile ${summary.aa.floorPp.toFixed(1)} pp, max ${summary.aa.maxPp.toFixed(1)} pp over ${plural(summary.aa.pairs, 'task')} (analyze --noise-from takes the 95th percentile as the floor)`,
    ]);
  const ks = passKLine(summary.arms[baseline], summary.arms[treatment]);
  if (ks) facts.push([`pass@k / pass^k (${words.arrow})`, ks]);
  return facts;
}

const STAGE_LABELS: Record<FunnelStage['stage'], string> = {
  supplied: 'supplied',
  present: 'present where the agent looks',
  listed: 'listed by the agent',
  opened: 'SKILL.md opened',
  resources_used: 'scripts/references used',
};

/** `supplied 40 → present 40 (100%) → listed: not reported → opened 30 (75%) → …; first open after 12.0s (median)`. */
export function formatFunnel(funnel: FunnelReport): string {
  const stages = funnel.stages.map((stage) => {
    const label = STAGE_LABELS[stage.stage];
    if (stage.count === undefined) return `${label}: ${stage.note ?? 'not measured'}`;
    if (stage.stage === 'supplied') return `${label} ${stage.count}`;
    const unknown = stage.known < (funnel.stages[0]?.count ?? 0) ? ` of ${stage.known} known` : '';
    return `${label} ${stage.count} (${formatPercent(stage.rate!)}${unknown})`;
  });
  const first = funnel.timeToFirstOpenMs;
  const time = first
    ? `; first open ${formatDurationMs(first.medianMs)} after the agent started (median of ${first.trials})`
    : funnel.sessionLogsRead === undefined
      ? '; time to first open: not measured (--funnel)'
      : '';
  return `${stages.join(' → ')}${time}`;
}

/** `tokens 12k → 15k, $0.10 → $0.14 per trial; Δ +25.0 pp per extra $ …`; undefined when no arm reported usage. */
export function formatCost(cost: CostReport, comparison: ComparedArms = USUAL): string | undefined {
  const noSkills = cost.arms[comparison.baseline];
  const withSkills = cost.arms[comparison.treatment];
  if (!noSkills?.tokenTrials && !withSkills?.tokenTrials && !noSkills?.costTrials && !withSkills?.costTrials)
    return undefined;
  const dollars = (value: number | undefined): string => (value === undefined ? NO_VALUE : `$${value.toFixed(4)}`);
  const parts = [
    `tokens ${formatCount(noSkills?.meanTokens)} → ${formatCount(withSkills?.meanTokens)} per trial`,
    `cost ${dollars(noSkills?.meanCostUsd)} → ${dollars(withSkills?.meanCostUsd)} per trial`,
  ];
  const judges = (noSkills?.judgeCalls ?? 0) + (withSkills?.judgeCalls ?? 0);
  if (judges > 0) parts.push(`${plural(judges, 'judge call')} (cost not recorded)`);
  if (cost.deltaPpPerUsd !== undefined) parts.push(`${formatDeltaPp(cost.deltaPpPerUsd)} per extra $ per trial`);
  if (cost.deltaPpPer1kTokens !== undefined)
    parts.push(`${formatDeltaPp(cost.deltaPpPer1kTokens)} per 1k extra tokens per trial`);
  return parts.join('; ');
}

function passKLine(noSkills: ArmSummary | undefined, withSkills: ArmSummary | undefined): string {
  const ks = new Set([...Object.keys(noSkills?.passAtK ?? {}), ...Object.keys(withSkills?.passAtK ?? {})]);
  const parts: string[] = [];
  for (const k of [...ks].sort((x, y) => Number(x) - Number(y))) {
    const show = (value: { value: number } | undefined): string =>
      value === undefined ? NO_VALUE : formatPercent(value.value);
    let part = `pass@${k} ${show(noSkills?.passAtK[k])} → ${show(withSkills?.passAtK[k])}, pass^${k} ${show(noSkills?.passHatK[k])} → ${show(withSkills?.passHatK[k])}`;
    // Tasks with fewer than k counted trials have no pass@k: say when the mean covers fewer tasks.
    const covered = [noSkills?.passAtK[k]?.tasks ?? 0, withSkills?.passAtK[k]?.tasks ?? 0];
    const total = [noSkills?.tasks ?? 0, withSkills?.tasks ?? 0];
    if (covered[0]! < total[0]! || covered[1]! < total[1]!)
      part += ` (only tasks with ≥${k} trials: ${covered[0]}/${total[0]} → ${covered[1]}/${total[1]})`;
    parts.push(part);
  }
  return parts.join('; ');
}

export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

/** `2 no-skills, 1 with-skills`. */
export function perArm(flagged: Pick<FlaggedTrials, 'byArm'>): string {
  return Object.keys(flagged.byArm)
    .sort((x, y) => armOrder(x) - armOrder(y) || (x < y ? -1 : 1))
    .filter((arm) => (flagged.byArm[arm] ?? 0) > 0)
    .map((arm) => `${flagged.byArm[arm]} ${arm}`)
    .join(', ');
}

/** no-skills, with-skills, then the others. */
function armOrder(arm: Arm): number {
  return arm === 'no-skills' ? 0 : arm === 'with-skills' ? 1 : 2;
}

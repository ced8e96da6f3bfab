import type { Driver } from './types.js';

/** The browser driver's entry in the registry: browser.ts (and Playwright) load only when a browser stage runs. */
export const browserDriver: Driver<'browser'> = {
  name: 'browser',
  stages: ['rollout', 'evaluate'],
  primaryMetrics: () => ['success_rate', 'mean_reward'],
  rollout: async (stage, context) => (await import('./browser.js')).browserRollout(stage.with!, context),
  evaluate: async (stage, context) =>
    (await import('./browser.js')).browserEvaluate(stage.with!, context.contract.scoring, context),
};

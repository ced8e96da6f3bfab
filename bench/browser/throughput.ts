/**
 * Browser driver throughput: episodes/s of a rollout (the gold canary, so no model latency) at concurrency 1, 2
 * and 4, against a bare Playwright loop over the same pages doing the same actions (a context per episode, goto,
 * wait for ready, the gold actions by selector, read the reward) at the same concurrency, with one browser each.
 * Prints both rates and their ratio (goal ≥ 0.8), measured in one run; each rate is the best of --rounds
 * alternating runs, since on shared cores one slow run says more about the neighbours than about the driver.
 *
 *   npx tsx bench/browser/throughput.ts [--episodes N] [--rounds R]
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { parse as parseYaml, stringify } from 'yaml';
import { setup } from '../../src/index.js';
import { launchChromium, serveDirectory } from '../../src/targets/drivers/browser.js';

const TARGET = join(import.meta.dirname, '../../tests/fixtures/targets/browser-bench');
const CHROMIUM = '/usr/bin/chromium';
const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number =>
  args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback;
const EPISODES = flag('--episodes', 12);
const ROUNDS = flag('--rounds', 2);

interface Episode {
  page: string;
  gold: { type: string; selector: string; text?: string; key?: string }[];
}

async function driverRate(episodes: Episode[], concurrency: number, dir: string, round: number): Promise<number> {
  const base = parseYaml(await readFile(join(TARGET, '.skill-eval/contract.yaml'), 'utf8'));
  base.modes = { smoke: { limit: episodes.length, seeds: [0] } };
  base.stages.rollout.with = { ...base.stages.rollout.with, episodes, concurrency };
  const file = join(dir, `contract-${concurrency}.yaml`);
  await writeFile(file, stringify(base));
  const env = await setup({ target: TARGET, contract: file, artifactsDir: join(dir, 'artifacts') });
  const started = performance.now();
  const r = await env.rollout({ llm: 'gold', mode: 'smoke', runId: `bench-${concurrency}-${round}` });
  const seconds = (performance.now() - started) / 1000;
  await env.teardown();
  if (!r.ok || r.counts.errors > 0) throw new Error(`driver rollout failed: ${JSON.stringify(r.failure ?? r.counts)}`);
  return episodes.length / seconds;
}

async function bareRate(episodes: Episode[], concurrency: number): Promise<number> {
  const started = performance.now();
  const site = await serveDirectory(TARGET);
  const browser = await launchChromium(CHROMIUM);
  const limit = pLimit(concurrency);
  await Promise.all(
    episodes.map((episode) =>
      limit(async () => {
        const context = await browser.newContext({ viewport: { width: 800, height: 600 } });
        const page = await context.newPage();
        await page.goto(`${site.url}/${episode.page}`);
        await page.waitForFunction('Boolean(window.TASK && window.TASK.ready)');
        await page.evaluate('window.TASK.start()');
        for (const action of episode.gold) {
          const target = page.locator(action.selector).first();
          if (action.type === 'click') await target.click();
          else if (action.type === 'type') await target.fill(action.text ?? '');
          else await target.press(action.key ?? 'Enter');
        }
        await page.evaluate('window.TASK.reward');
        await context.close();
      }),
    ),
  );
  await browser.close();
  await site.close();
  return episodes.length / ((performance.now() - started) / 1000);
}

if (!existsSync(CHROMIUM)) {
  console.log(`skipped: no Chromium at ${CHROMIUM}`);
} else {
  const contract = parseYaml(await readFile(join(TARGET, '.skill-eval/contract.yaml'), 'utf8'));
  const pages = contract.stages.rollout.with.episodes as Episode[];
  const episodes = Array.from({ length: EPISODES }, (_, i) => pages[i % pages.length]!);
  const dir = await mkdtemp(join(tmpdir(), 'skill-eval-bench-browser-'));
  try {
    console.log(
      `${EPISODES} episodes over ${pages.length} pages (gold actions), one browser per run, best of ${ROUNDS}`,
    );
    console.log('concurrency  driver eps/s  bare eps/s  ratio');
    for (const concurrency of [1, 2, 4]) {
      let bare = 0;
      let driver = 0;
      for (let round = 0; round < ROUNDS; round++) {
        bare = Math.max(bare, await bareRate(episodes, concurrency));
        driver = Math.max(driver, await driverRate(episodes, concurrency, dir, round));
      }
      console.log(
        `${String(concurrency).padStart(11)}  ${driver.toFixed(2).padStart(12)}  ${bare.toFixed(2).padStart(10)}  ${(driver / bare).toFixed(2).padStart(5)}`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeResults } from '../../src/analytics/analyze.js';
import { Catalog } from '../../src/view/catalog.js';
import { VIEW_ANALYSIS } from '../../src/view/job-store.js';
import { trialView } from '../../src/view/trial-data.js';
import { trialName, writeJobJson, writeSyntheticTrial } from '../helpers/view-jobs.js';

const FIXTURE_RESULTS = join(import.meta.dirname, '../fixtures/results');

function job(): { root: string; jobDir: string } {
  const root = mkdtempSync(join(tmpdir(), 'skill-eval-view-store-'));
  const jobDir = join(root, 'jobs', 'j1');
  writeJobJson(jobDir, 'j1', ['alpha', 'beta'], 2);
  for (const task of ['alpha', 'beta'])
    for (const arm of ['with-skills', 'no-skills'] as const)
      for (const index of [1, 2])
        writeSyntheticTrial(jobDir, 'j1', {
          task,
          arm,
          index,
          status: arm === 'with-skills' || index === 1 ? 'passed' : 'failed',
          steps: [{ command: 'ls' }, { command: `cat ${task}/SKILL.md` }],
        });
  return { root, jobDir };
}

describe('the viewer’s data model', () => {
  it('computes the statistics analyze computes, and a row per trial', async () => {
    const { root, jobDir } = job();
    const catalog = new Catalog([root]);
    const store = catalog.all()[0]!;
    const view = store.jobView();
    const analyzed = await analyzeResults([jobDir], VIEW_ANALYSIS);
    expect(view.report.configs).toEqual(analyzed.configs);
    expect(view.trials).toHaveLength(8);
    expect(view.entry).toMatchObject({
      key: 'j1',
      kind: 'job',
      tasks: ['alpha', 'beta'],
      planned: 8,
      finished: 8,
      running: 0,
    });
    expect(view.entry.passRates['no-skills']).toEqual({ passed: 2, counted: 4 });
  });

  it('shows a trial that is running, its phase, and then its result', () => {
    const { root, jobDir } = job();
    const store = new Catalog([root]).all()[0]!;
    expect(store.jobView().entry.running).toBe(0);
    const running = { task: 'gamma', arm: 'with-skills', index: 1, runningPhase: 'agent' } as const;
    writeSyntheticTrial(jobDir, 'j1', running);
    store.refresh(true);
    const row = store.jobView().trials.find((t) => t.name === trialName(running))!;
    expect(row).toMatchObject({ status: 'running', phase: 'agent', task: 'gamma' });
    writeSyntheticTrial(jobDir, 'j1', { ...running, runningPhase: undefined, status: 'failed' });
    store.refresh(true);
    expect(store.jobView().trials.find((t) => t.name === trialName(running))).toMatchObject({ status: 'failed' });
    expect(store.jobView().entry.running).toBe(0);
  });

  it('finds jobs started after it first looked', () => {
    const { root } = job();
    const catalog = new Catalog([root]);
    expect(catalog.jobs().jobs).toHaveLength(1);
    writeJobJson(join(root, 'jobs', 'j2'), 'j2', ['alpha'], 1);
    catalog.refresh(true);
    expect(
      catalog
        .jobs()
        .jobs.map((entry) => entry.key)
        .sort(),
    ).toEqual(['j1', 'j2']);
    rmSync(root, { recursive: true, force: true });
  });

  it('turns the session log into steps: commands, skill openings, clipped outputs', () => {
    const { root, jobDir } = job();
    const long = 'x'.repeat(10_000);
    writeSyntheticTrial(jobDir, 'j1', {
      task: 'alpha',
      arm: 'with-skills',
      index: 3,
      steps: [{ command: 'cat fixture-skill/SKILL.md', output: long, skillActivated: 'fixture-skill' }],
    });
    const store = new Catalog([root]).all()[0]!;
    const view = trialView(store, 'alpha__fixture-agent__with-skills__3')!;
    const commands = view.steps.filter((step) => step.kind === 'command');
    expect(commands).toHaveLength(1);
    expect(commands[0]).toMatchObject({
      title: 'cat fixture-skill/SKILL.md',
      skill: { name: 'fixture-skill', how: 'command read SKILL.md' },
      action: true,
    });
    expect(commands[0]!.output).toEqual({ text: 'x'.repeat(4000), full: 10_000 });
    expect(view.steps.find((step) => step.kind === 'note')?.skill).toEqual({
      name: 'fixture-skill',
      how: 'Skill tool',
    });
    expect(view.files.map((file) => file.path)).toEqual(['config.json', 'result.json', 'session.jsonl']);
  });

  it('reads the original skill-eval reports as a job of their own', () => {
    const catalog = new Catalog([join(FIXTURE_RESULTS, 'legacy')]);
    const [entry] = catalog.jobs().jobs;
    expect(entry).toMatchObject({ kind: 'legacy', tasks: ['superlint_demo'] });
    const store = catalog.all()[0]!;
    const [first] = store.trialNames();
    const view = trialView(store, first!)!;
    expect(view.instruction?.text).toBe('Lint the repo');
  });

  it('names an unreadable result among the problems and keeps going', () => {
    const { root, jobDir } = job();
    writeSyntheticTrial(jobDir, 'j1', { task: 'alpha', arm: 'no-skills', index: 9 });
    writeFileSync(
      join(jobDir, 'alpha__fixture-agent__no-skills__9', 'result.json'),
      '{"schema": "skill-eval/trial-result@1"}',
    );
    const catalog = new Catalog([root]);
    expect(catalog.all()[0]!.jobView().trials).toHaveLength(9);
    expect(catalog.jobs().problems.map((problem) => problem.file)).toEqual([
      join(jobDir, 'alpha__fixture-agent__no-skills__9', 'result.json'),
    ]);
  });
});

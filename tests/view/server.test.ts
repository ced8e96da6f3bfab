import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Catalog } from '../../src/view/catalog.js';
import type { JobsView, JobView, TrialView } from '../../src/view/model.js';
import { createApp } from '../../src/view/server.js';
import { writeJobJson, writeSyntheticTrial } from '../helpers/view-jobs.js';

/** The routes, through Hono's request(): no socket, the same handlers the server runs. */
function served() {
  const root = mkdtempSync(join(tmpdir(), 'skill-eval-view-server-'));
  const results = join(root, 'results');
  const jobDir = join(results, 'jobs', 'j1');
  writeJobJson(jobDir, 'j1', ['alpha'], 1);
  const trialDir = writeSyntheticTrial(jobDir, 'j1', {
    task: 'alpha',
    arm: 'with-skills',
    index: 1,
    steps: [{ command: 'ls' }],
  });
  writeSyntheticTrial(jobDir, 'j1', { task: 'alpha', arm: 'no-skills', index: 1 });
  writeFileSync(join(root, 'secret.txt'), 'the secret');
  writeFileSync(join(trialDir, 'page.html'), '<script>alert(1)</script>');
  symlinkSync(join(root, 'secret.txt'), join(trialDir, 'link.txt'));
  return { app: createApp(new Catalog([results])), root };
}

describe('the viewer’s server', () => {
  const { app } = served();
  const trial = 'alpha__fixture-agent__with-skills__1';

  it('answers the pages’ JSON', async () => {
    const jobs = (await (await app.request('/api/jobs')).json()) as JobsView;
    expect(jobs.jobs.map((job) => job.key)).toEqual(['j1']);
    const job = (await (await app.request('/api/jobs/j1')).json()) as JobView;
    expect(job.trials).toHaveLength(2);
    const view = (await (await app.request(`/api/jobs/j1/trials/${trial}`)).json()) as TrialView;
    expect(view.steps.some((step) => step.title === 'ls')).toBe(true);
    expect((await app.request('/api/jobs/nope')).status).toBe(404);
  });

  it('serves the page, the script and the style with a strict content security policy', async () => {
    const page = await app.request('/');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<script src="assets/app.js"></script>');
    const script = await app.request('/assets/app.js');
    expect(script.headers.get('content-type')).toContain('text/javascript');
    expect((await script.text()).length).toBeGreaterThan(10_000);
  }, 60_000);

  it('serves a trial’s raw files as text or downloads, never as HTML', async () => {
    const text = await app.request(`/raw/j1/${trial}/session.jsonl`);
    expect(text.status).toBe(200);
    expect(text.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(text.headers.get('content-security-policy')).toBe('sandbox');
    const html = await app.request(`/raw/j1/${trial}/page.html`);
    expect(html.headers.get('content-type')).toBe('application/octet-stream');
    expect(html.headers.get('content-disposition')).toBe('attachment');
  });

  it.each([
    [`/raw/j1/${trial}/../../../secret.txt`, [403, 404]],
    [`/raw/j1/${trial}/..%2f..%2f..%2fsecret.txt`, [403]],
    // The URL parser already resolves %2e%2e segments: the path then names no trial.
    [`/raw/j1/${trial}/%2e%2e/%2e%2e/%2e%2e/secret.txt`, [403, 404]],
    [`/raw/j1/${trial}/%252e%252e/secret.txt`, [403]],
    [`/raw/j1/${trial}/link.txt`, [403]],
    ['/raw/j1/..%2f..%2f/secret.txt', [404]],
    ['/raw/nope/x/secret.txt', [404]],
  ])('refuses %s', async (path, statuses) => {
    const response = await app.request(path);
    expect(statuses).toContain(response.status);
    expect(await response.text()).not.toContain('the secret');
  });
});

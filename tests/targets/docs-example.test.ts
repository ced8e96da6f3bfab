import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** The env API example from docs/targets.md, extracted and run as written (only the package name maps to src/). */
describe('docs/targets.md env API example', () => {
  it('runs as written', async () => {
    const docs = await readFile(join(ROOT, 'docs/targets.md'), 'utf8');
    const match = /<!-- env-api-example[^>]*-->\n```ts\n([\s\S]*?)```/.exec(docs);
    expect(match, 'the marked ts block in docs/targets.md').not.toBeNull();
    const code = match![1]!;
    expect(code).toContain('const env = await setup({ target');
    expect(code).toContain('const r = await env.rollout({ llm');
    expect(code).toContain('const m = await env.evaluate({ mode');
    expect(code).toContain('await env.teardown();');
    // Run in a scratch copy of the project layout the example names, so its artifacts land there.
    const cwd = await mkdtemp(join(tmpdir(), 'skill-eval-docs-'));
    await mkdir(join(cwd, 'tests/fixtures/targets'), { recursive: true });
    await cp(join(ROOT, 'tests/fixtures/targets/code-bench'), join(cwd, 'tests/fixtures/targets/code-bench'), {
      recursive: true,
    });
    const script = join(cwd, 'example.mts');
    await writeFile(script, code.replace("from 'skill-eval'", `from ${JSON.stringify(join(ROOT, 'src/index.ts'))}`));
    const run = await execa(
      process.execPath,
      ['--import', pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href, script],
      { cwd, reject: false, env: { HOME: cwd }, timeout: 120_000 },
    );
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^true 3 ${cwd}/results/targets/.*/env_api/samples.jsonl$`));
    expect(lines[1]).toMatch(/^true 1 pass_at_1 \{ low: 0\.43\d*, high: 1, method: 'wilson' \} .*metrics\.json$/);
  });
});

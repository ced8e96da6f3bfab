import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/trials.js';
import { TmuxCli } from './helpers.js';

const sessions: TmuxCli[] = [];
afterEach(() => {
  for (const session of sessions.splice(0)) session.kill();
});

describe('eval progress on a terminal (real CLI in tmux)', () => {
  it('shows live counters, running trials with phase and elapsed time, then the final table', async () => {
    const work = await tempDir('progress-tty');
    const results = join(work, 'results');
    const cli = await TmuxCli.start(
      [
        'eval',
        'superlint_demo',
        'csv_report_demo',
        '--agent=oracle',
        '--provider=local',
        '--compare',
        '--trials=3',
        '--concurrency=2',
        `--results-dir=${results}`,
      ],
      { tmpdir: join(work, 'tmp') },
    );
    sessions.push(cli);

    // A frame taken after some trials finished and while others run: done/total, running count, ETA, passes per arm, errors, running trials.
    const live = await cli.waitForScreen(
      /(?:[1-9]|1[01])\/12 done · [12] running[\s\S]*running\n\s+\S+ · oracle · (with|no)-skills #\d\s+\w+\s+\d+\.\ds/,
      60_000,
    );
    expect(live).toMatch(
      /skill-eval {2}\[[#-]{20}\] \d+\/12 done · [12] running · elapsed \d+\.\ds · ETA (…|\d+\.\ds)/,
    );
    expect(live).toMatch(/passed {3}.*(with-skills|no-skills) \d\/\d/);
    expect(live).toMatch(/errors {3}infra 0 · verifier 0/);
    expect(live).not.toMatch(/\[\d+\/12\] superlint_demo/); // not the plain line-per-trial output

    expect(await cli.exitCode(90_000)).toBe(0);
    const final = await cli.waitForScreen(/provider: local/, 5_000);
    // The last frame stays, counters complete, no running section; the summary table follows it.
    expect(final).toMatch(/12\/12 trials done · elapsed/);
    expect(final).toMatch(/passed {3}with-skills 6\/6 · no-skills 6\/6/);
    expect(final).not.toMatch(/ running\n/);
    expect(final).toMatch(/superlint_demo\s+\| oracle \| with-skills \| 3\s+\| 3\/3/);
    expect(final).toMatch(/csv_report_demo \| oracle \| no-skills\s+\| 3\s+\| 3\/3/);
    expect(final.indexOf('12/12 trials done')).toBeLessThan(final.indexOf('Task '));
  });
});

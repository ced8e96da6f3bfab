import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSamples, readSamples } from '../../src/targets/samples.js';

async function samplesFile(lines: string[]): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'skill-eval-samples-')), 'samples.jsonl');
  await writeFile(path, lines.join('\n'));
  return path;
}

const line = (prompt: string, completion: string): string => JSON.stringify({ prompt, completion });

describe('sample integrity codes', () => {
  it('passes a good file', async () => {
    const path = await samplesFile([line('q1', 'a1'), line('q2', 'a2')]);
    expect(
      checkSamples(await readSamples(path), {
        path,
        expected: 2,
        fromDataset: (s) => ['q1', 'q2'].includes(s.prompt),
        modelResponses: ['a1', 'so: a2'],
      }),
    ).toBeUndefined();
  });

  it.each([
    ['samples_missing', undefined, {}],
    ['samples_no_valid_lines', ['not json', '{"prompt": 1, "completion": "x"}', '{"prompt": "p"}'], {}],
    ['samples_all_empty', [line('q1', ''), line('q2', '  ')], {}],
    ['samples_too_few', [line('q1', 'a')], { expected: 2 }],
    [
      'samples_not_from_dataset',
      [line('q1', 'a'), line('made up', 'b')],
      { fromDataset: (s: { prompt: string }) => s.prompt === 'q1' },
    ],
    ['model_not_called', [line('q1', 'a')], { modelResponses: [] }],
    ['samples_not_from_model', [line('q1', 'a1'), line('q2', 'invented')], { modelResponses: ['a1', 'a2'] }],
  ] as const)('%s', async (code, lines, options) => {
    const path = lines ? await samplesFile([...lines]) : join(tmpdir(), 'skill-eval-no-such-samples.jsonl');
    const check = checkSamples(await readSamples(path), { path, ...options });
    expect(check?.code).toBe(code);
    expect(check?.message.length).toBeGreaterThan(10);
  });

  it('lets the empty canary be empty', async () => {
    const path = await samplesFile([line('q1', '')]);
    expect(checkSamples(await readSamples(path), { path, allowEmpty: true })).toBeUndefined();
  });
});

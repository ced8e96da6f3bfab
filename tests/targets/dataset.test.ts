import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/targets/dataset.js';

const QA = resolve(import.meta.dirname, '../fixtures/targets/qa-hf');

describe('datasets', () => {
  it('the committed Parquet fixture holds the same rows as the JSONL', async () => {
    const parquet = await loadDataset(QA, 'main/*.parquet');
    const jsonl = await loadDataset(QA, 'data/test.jsonl');
    expect(parquet.rows).toHaveLength(8);
    expect(parquet.rows).toEqual(jsonl.rows);
    expect(parquet.files).toEqual(['main/test-00000-of-00001.parquet']);
  });

  it('reads JSON lists and says which line is broken', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skill-eval-data-'));
    await writeFile(join(dir, 'a.json'), JSON.stringify({ data: [{ q: 1 }] }));
    await writeFile(join(dir, 'b.jsonl'), '{"q": 1}\n[1]\n');
    expect((await loadDataset(dir, 'a.json')).rows).toEqual([{ q: 1 }]);
    await expect(loadDataset(dir, 'b.jsonl')).rejects.toThrow(
      'b.jsonl:2: expected a JSON object per line, found a list',
    );
    await expect(loadDataset(dir, 'nothing/*.parquet')).rejects.toThrow(/no file matches/);
  });
});

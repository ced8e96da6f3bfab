/**
 * Keeps the vitest project split of vitest.config.ts true: every file it names exists, and no unit test starts what
 * only the integration project may need (a Docker engine, Chromium, tmux, an agent CLI), so `pnpm run test:unit`
 * runs on a machine that has none of them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { E2E, INTEGRATION } from '../vitest.config.js';

const ROOT = resolve(import.meta.dirname, '..');

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.ts') ? [relative(ROOT, path)] : [];
  });
}

/** What a test calls when it needs the integration project's machinery. */
const NEEDS = [
  { what: 'a Docker engine', pattern: /\bengineGate\(|\bdockerReadiness\(/ },
  { what: 'Chromium', pattern: /from 'playwright-core'|import\('playwright-core'\)|\/usr\/bin\/chromium/ },
  { what: 'tmux', pattern: /\bTmuxCli\b|'tmux'/ },
  { what: 'an agent CLI', pattern: /\brunAgentTrial\(/ },
];

const named = [...INTEGRATION, ...E2E];
const isNamed = (file: string): boolean =>
  named.some((entry) => entry === file || (entry.endsWith('/**/*.test.ts') && file.startsWith(entry.slice(0, -12))));

describe('vitest projects', () => {
  it('name only files that exist', () => {
    const missing = named.filter((file) => !file.includes('*') && !existsSync(join(ROOT, file)));
    expect(missing).toEqual([]);
  });

  it('leave no engine, browser, tmux or agent CLI in a unit test', () => {
    const offending = testFiles(join(ROOT, 'tests'))
      .filter((file) => !isNamed(file) && file !== relative(ROOT, import.meta.filename))
      .flatMap((file) => {
        const text = readFileSync(join(ROOT, file), 'utf8');
        return NEEDS.filter(({ pattern }) => pattern.test(text)).map(({ what }) => `${file} needs ${what}`);
      });
    expect(offending, 'add these files to INTEGRATION in vitest.config.ts').toEqual([]);
  });
});

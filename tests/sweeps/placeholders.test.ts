import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import {
  checkTemplate,
  placeholderEnv,
  renderTemplate,
  SERVE_PLACEHOLDERS,
  TRAINER_PLACEHOLDERS,
} from '../../src/sweeps/placeholders.js';
import { shellQuote } from '../../src/util/shell.js';

describe('command templates', () => {
  it('fills placeholders with shell-quoted values and keeps {{ }} literal', () => {
    const command = renderTemplate('train --from {model} --out {out_dir} --json {{"steps": {steps}}}', {
      model: "/tmp/my model's dir",
      out_dir: '/tmp/out',
      steps: '5',
    });
    expect(command).toBe(`train --from '/tmp/my model'\\''s dir' --out /tmp/out --json {"steps": 5}`);
  });

  it('quotes so that bash reads each value back as one word', async () => {
    const { execFileSync } = await import('node:child_process');
    const value = `a b "c" $HOME 'd' \`e\``;
    const out = execFileSync('bash', ['-c', `printf '%s\\n' ${shellQuote(value)}`], { encoding: 'utf8' });
    expect(out).toBe(`${value}\n`);
  });

  it('can leave values unquoted (model names are not shell words)', () => {
    expect(renderTemplate('ckpt-{segment}:{checkpoint}', { checkpoint: '/a b', segment: '2' }, { quote: false })).toBe(
      'ckpt-2:/a b',
    );
  });

  it('rejects unknown placeholders and stray braces, naming the flag', () => {
    expect(() => checkTemplate('--trainer', 'train {modle}', TRAINER_PLACEHOLDERS)).toThrow(
      /--trainer: unknown placeholder \{modle\}/,
    );
    expect(() => checkTemplate('--serve', 'serve {checkpoint', SERVE_PLACEHOLDERS)).toThrow(UsageError);
    expect(checkTemplate('--serve', 'serve {checkpoint} --port {port} {{x}}', SERVE_PLACEHOLDERS)).toEqual([
      'checkpoint',
      'port',
    ]);
  });

  it('exports the values as SKILL_EVAL_SWEEP_* variables', () => {
    expect(placeholderEnv({ out_dir: '/o', steps: '3' })).toEqual({
      SKILL_EVAL_SWEEP_OUT_DIR: '/o',
      SKILL_EVAL_SWEEP_STEPS: '3',
    });
  });
});

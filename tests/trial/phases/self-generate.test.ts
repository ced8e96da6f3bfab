import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runEvaluation } from '../../../src/api/run-evaluation.js';
import { SELF_GENERATED_SKILL, selfGenerateInstruction } from '../../../src/trial/phases/self-generate.js';
import { tempDir } from '../../helpers/trials.js';
import { JOB_FIXTURES, trivialJobOptions } from '../../jobs/helpers.js';

describe('the self-generated arm’s writing phase', () => {
  it('asks for the skill in a named folder, with the task, and not for the solution', () => {
    const text = selfGenerateInstruction('Fix the build.\n', '/tmp/self-generated');
    expect(text).toContain('Do not solve the task below yet.');
    expect(text).toContain(`a folder /tmp/self-generated holding SKILL.md`);
    expect(text).toContain(`name: ${SELF_GENERATED_SKILL}`);
    expect(text.trimEnd().endsWith('Fix the build.')).toBe(true);
  });

  it('an agent that writes no skill leaves the solving phase without one, and says so', async () => {
    const resultsDir = await tempDir('self-generated-none');
    const outcome = await runEvaluation(
      trivialJobOptions(resultsDir, {
        tasks: [join(JOB_FIXTURES, 'arms')],
        agent: 'command',
        command: 'echo 42 > answer.txt',
        skills: true,
        arms: ['self-generated'],
      }),
    );
    const [result] = outcome.results;
    expect(result?.status).toBe('passed');
    expect(result?.skills).toEqual([]);
    expect(result?.arm_setup?.self_generated?.error).toMatch(
      /^the agent wrote no skill \(.*self-generated does not exist\)$/,
    );
    const dir = join(outcome.jobDir, result!.trial_name);
    expect(await readFile(join(dir, 'self-generated', 'session.jsonl'), 'utf8')).toContain('"type":"agent_result"');
  });
});

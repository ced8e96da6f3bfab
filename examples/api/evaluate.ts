import { analyzeResults, formatProblem, loadTasks, readResults, runEvaluation } from '../../src/index.js';

// Load and validate the tasks: each one is a task, or every problem found in it.
for (const loaded of await loadTasks(['tasks/superlint_demo'])) {
  if (loaded.ok) console.log(`task ${loaded.task.name}: skills ${loaded.task.skills.map((s) => s.name).join(', ')}`);
  else console.log(`broken ${loaded.dir}: ${loaded.problems.map(formatProblem).join('; ')}`);
}

// Run a job: the oracle agent (the task's reference solution) on the local provider, no API key, no Docker.
const outcome = await runEvaluation({
  tasks: ['tasks/superlint_demo'],
  agent: 'oracle',
  provider: 'local',
  trials: 2,
  resultsDir: 'results',
});
console.log(`exit code ${outcome.exitCode}: ${outcome.summary.finished}/${outcome.summary.planned} trials finished`);

// Read the trial results back, one record at a time.
const statuses: string[] = [];
const read = await readResults(['results'], (trial) => statuses.push(`${trial.trialName} ${trial.status}`));
console.log(`${read.trialResults} results read: ${statuses.sort().join(', ')}`);

// Analyze them: pass rate with its Wilson 95 % interval per task and arm (with --compare: gain, significance).
const report = await analyzeResults(['results'], { passThreshold: 1, includeErrorsAsFailures: false, k: [1] });
for (const config of report.configs) {
  for (const row of config.tasks) {
    const arm = row.arms['with-skills'];
    if (!arm) continue;
    const { low, high } = arm.passRateCi;
    console.log(
      `${config.label} ${row.task}: ${arm.passes}/${arm.trials} passed, 95% interval [${low.toFixed(2)}, ${high.toFixed(2)}]`,
    );
  }
}

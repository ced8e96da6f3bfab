import type { Command } from 'commander';
import { registerAgents } from './agents.js';
import { registerAnalyze } from './analyze.js';
import { registerCleanup } from './cleanup.js';
import { registerEval } from './eval.js';
import { registerImages } from './images.js';
import { registerInit } from './init.js';
import { registerRegrade } from './regrade.js';
import { registerStatus } from './status.js';
import { registerSubmit } from './submit.js';
import { registerTarget } from './target.js';
import { registerTasks } from './tasks.js';
import { registerTasksCheck } from './tasks-check.js';
import { registerTasksConvert } from './tasks-convert.js';
import { registerTestBootstrap } from './test-bootstrap.js';
import { registerTrainAndBenchmark } from './train-and-benchmark.js';
import { registerVerifySuite } from './verify-suite.js';
import { registerView } from './view.js';
import { registerWorker } from './worker.js';

/** Each command module registers itself on the program; `setExitCode` lets it report a non-zero outcome without throwing. */
export type RegisterCommand = (program: Command, setExitCode: (code: number) => void) => void;

/** The typed registry of CLI commands; one module per command under src/cli/. */
export const commands = {
  init: registerInit,
  eval: registerEval,
  analyze: registerAnalyze,
  regrade: registerRegrade,
  view: registerView,
  'test-bootstrap': registerTestBootstrap,
  tasks: registerTasks,
  'tasks check': registerTasksCheck,
  'tasks convert': registerTasksConvert,
  target: registerTarget,
  'verify-suite': registerVerifySuite,
  'train-and-benchmark': registerTrainAndBenchmark,
  cleanup: registerCleanup,
  images: registerImages,
  agents: registerAgents,
  worker: registerWorker,
  status: registerStatus,
  submit: registerSubmit,
} satisfies Record<string, RegisterCommand>;

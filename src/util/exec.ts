/** How a command runs and what it returns, the same in every environment and for host processes. */
export interface ExecOptions {
  /** Working directory in the environment; defaults to `paths.workdir`. */
  cwd?: string | undefined;
  /** Added to the environment's base variables (HOME, TMPDIR, PATH…). */
  env?: Record<string, string> | undefined;
  /** Kill the command (its whole process group / exec) after this long. */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Run as this user (Docker only; the local provider runs as the current user). */
  user?: string | undefined;
  /**
   * The command calls a model API (an agent CLI): an environment that cuts an offline task's network keeps a
   * path out for it and records that in its limits (the local sandbox, until a model gateway exists).
   */
  callsModelApi?: boolean | undefined;
  /** Written to the command's stdin, which is then closed. Stdin is closed (not inherited) otherwise. */
  stdin?: string | undefined;
  /** Live output, for progress and stream parsers. */
  onStdout?: ((chunk: string) => void) | undefined;
  onStderr?: ((chunk: string) => void) | undefined;
}

export interface ExecResult {
  /** undefined when the process did not exit on its own (killed, timed out, unknown): never read as success. */
  exitCode: number | undefined;
  signal?: string | undefined;
  timedOut: boolean;
  aborted: boolean;
  stdout: string;
  stderr: string;
  durationMs: number;
}

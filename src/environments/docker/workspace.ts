import type Docker from 'dockerode';
import type { LimitFunction } from 'p-limit';
import { errorMessage, InfraError } from '../../errors.js';
import type { EnvironmentPaths, ExecOptions, ExecResult, LimitReport, WorkdirArchive, Workspace } from '../types.js';
import type { VerificationOutcome, VerificationRequest } from '../verification.js';
import { downloadPath, packUploads, putUpload, readEnvFile } from './archive.js';
import { isRoot } from './container.js';
import { httpStatus } from './engine.js';
import { execInContainer } from './exec.js';
import { untrackContainer } from './live.js';
import { SCRIPTS } from './scripts.js';
import { runHelper } from './transport.js';
import { verifyInOneExec } from './verify.js';
import { archiveContainerWorkdir, restoreContainerWorkdir } from './workdir-archive.js';

export interface DockerWorkspaceOptions {
  killGraceMs: number;
  verifierOffline: boolean;
  /** The engine's lifecycle slots (container removal takes one). */
  lifecycle: LimitFunction;
  /** The image's USER: the verifier's when the task names none. */
  imageUser: string;
  /** Where the model gateway's socket directory is mounted (WorkspaceContext.gatewayDir), if it is. */
  gatewayDir?: string | undefined;
}

/** A trial's container as a Workspace: commands by exec (exec.ts), files by the archive API (archive.ts). */
export class DockerWorkspace implements Workspace {
  readonly paths: EnvironmentPaths;
  readonly gatewayDir: string | undefined;
  private disposed = false;

  constructor(
    private readonly docker: Docker,
    private readonly container: Docker.Container,
    readonly id: string,
    workdir: string,
    home: string,
    readonly limits: LimitReport,
    private readonly options: DockerWorkspaceOptions,
  ) {
    this.paths = {
      workdir,
      home,
      tmp: '/tmp',
      logsAgent: '/logs/agent',
      logsVerifier: '/logs/verifier',
      logsArtifacts: '/logs/artifacts',
      tests: '/tests',
      solution: '/solution',
    };
    this.gatewayDir = options.gatewayDir;
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    this.assertLive();
    return execInContainer(this.container, command, {
      ...options,
      cwd: options.cwd ?? this.paths.workdir,
      killGraceMs: this.options.killGraceMs,
    });
  }

  async upload(hostPath: string, envPath: string): Promise<void> {
    this.assertLive();
    await putUpload(this.container, { kind: 'path', hostPath, envPath });
  }

  async writeFile(envPath: string, content: string | Uint8Array, mode?: number): Promise<void> {
    this.assertLive();
    await putUpload(this.container, { kind: 'bytes', envPath, content, mode });
  }

  async download(envPath: string, hostPath: string): Promise<boolean> {
    this.assertLive();
    return downloadPath(this.container, envPath, hostPath);
  }

  async readFile(envPath: string): Promise<Buffer | undefined> {
    this.assertLive();
    return readEnvFile(this.container, envPath);
  }

  async remove(envPath: string): Promise<void> {
    this.assertLive();
    try {
      await runHelper(this.container, 'rm -rf -- "$1"', [envPath]);
    } catch (error) {
      throw new InfraError(`removing ${envPath} in the container failed: ${errorMessage(error)}`, { cause: error });
    }
  }

  async stopAll(): Promise<void> {
    this.assertLive();
    try {
      await runHelper(this.container, SCRIPTS.stopAll, [this.graceSeconds()]);
    } catch (error) {
      throw new InfraError(`stopping the trial's processes failed: ${errorMessage(error)}`, { cause: error });
    }
    if (this.options.verifierOffline) await this.disconnectNetworks();
  }

  /** Stop, reset, tests in, verifier, logs out: one exec as root (verify.sh), whatever user the verifier runs as. */
  async verify(request: VerificationRequest): Promise<VerificationOutcome> {
    this.assertLive();
    if (this.options.verifierOffline) await this.disconnectNetworks();
    const user = request.options.user ?? this.options.imageUser;
    return verifyInOneExec(this.container, request, {
      workdir: this.paths.workdir,
      killGraceMs: this.options.killGraceMs,
      user: isRoot(user) ? undefined : user,
      packTests: () => packUploads([{ kind: 'path', hostPath: request.testsHostDir, envPath: request.testsPath }]),
    });
  }

  async archiveWorkdir(hostFile: string, maxBytes: number): Promise<WorkdirArchive> {
    this.assertLive();
    return archiveContainerWorkdir(this.container, this.paths.workdir, hostFile, maxBytes);
  }

  async restoreWorkdir(hostFile: string): Promise<void> {
    this.assertLive();
    await restoreContainerWorkdir(this.container, this.paths.workdir, hostFile);
  }

  /** Takes the container off every network (the verifier then runs offline). */
  async disconnectNetworks(): Promise<void> {
    const info = await this.container.inspect();
    const mode = info.HostConfig.NetworkMode ?? '';
    if (mode === 'none') return;
    if (mode === 'host') {
      this.limits.notes.push(
        'verifier offline requested, but network_mode = "host" cannot be disconnected: the verifier had the host network',
      );
      return;
    }
    for (const name of Object.keys(info.NetworkSettings.Networks ?? {})) {
      try {
        await this.docker.getNetwork(name).disconnect({ Container: this.container.id, Force: true });
      } catch (error) {
        throw new InfraError(`disconnecting the container from network ${name} failed: ${errorMessage(error)}`, {
          cause: error,
        });
      }
    }
    this.limits.notes.push('verifier ran offline: networks disconnected after the agent finished');
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.options.lifecycle(() => this.container.remove({ force: true, v: true }));
        break;
      } catch (error) {
        const status = httpStatus(error);
        if (status === 404) break; // already gone
        if (status === 409 && /already in progress/i.test(errorMessage(error))) break;
        await new Promise((resolve) => setTimeout(resolve, 200 * (attempt + 1)));
      }
    }
    // Untracked only now: if removal failed, the signal handler and `skill-eval cleanup` can still find it.
    untrackContainer(this.container.id);
  }

  private graceSeconds(): string {
    return String(Math.max(1, Math.ceil(this.options.killGraceMs / 1000)));
  }

  private assertLive(): void {
    if (this.disposed) throw new InfraError(`docker workspace ${this.id} was already disposed`, { retryable: false });
  }
}

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  readonly pid: number;
  isRunning(): boolean;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<string>;
  /** SIGTERM to the whole process group, SIGKILL after the grace period. */
  stop(graceMs?: number): Promise<void>;
  /** The last lines of its log, for error messages. */
  tail(lines?: number): string;
}

/**
 * Starts children in their own process groups and stops them in reverse order, so a Ctrl-C never leaves an orphan
 * (Keycloak's kc.sh forks java; daprd and FerretDB are single processes).
 */
export class Supervisor {
  private readonly running: ManagedProcess[] = [];
  private readonly onExit = () => this.killAllNow();
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.announce(signal);
    // A second signal while stopping means "now": kill everything at once.
    if (this.stopping) {
      this.killAllNow();
      process.exit(130);
    }
    void this.stopAll().finally(() => {
      this.announce('stopped');
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  };
  private stopping = false;

  /**
   * Owns SIGINT/SIGTERM/SIGHUP from the first moment, so a Ctrl-C during a slow start (Keycloak takes ~40 s) still
   * stops every child; `exit` covers normal ends. Node runs no `exit` hook when a signal kills it, hence both.
   */
  constructor(
    private readonly logDir: string,
    private readonly announce: (what: NodeJS.Signals | 'stopped') => void = () => undefined,
  ) {
    process.once('exit', this.onExit);
    for (const signal of signals) process.on(signal, this.onSignal);
  }

  start(name: string, command: string, args: readonly string[], options: StartOptions = {}): ManagedProcess {
    const logFile = path.join(this.logDir, `${name}.log`);
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(command, args, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        stdio: ['ignore', fd, fd],
        detached: true,
      });
    } finally {
      closeSync(fd);
    }
    let running = true;
    const exited = new Promise<string>((resolve) => {
      child.once('exit', (code, signal) => {
        running = false;
        resolve(signal ?? String(code));
      });
      child.once('error', (error) => {
        running = false;
        resolve(`spawn error: ${error.message}`);
      });
    });
    const pid = child.pid ?? -1;
    const managed: ManagedProcess = {
      name,
      logFile,
      pid,
      isRunning: () => running,
      exited,
      stop: async (graceMs = 10_000) => {
        if (!running) return;
        signalGroup(pid, 'SIGTERM');
        const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
        signalGroup(pid, 'SIGKILL'); // anything the leader left behind in its group
        this.forget(managed);
      },
      tail: (lines = 30) => tailOf(logFile, lines),
    };
    this.running.push(managed);
    return managed;
  }

  /** Stops everything, last started first. */
  async stopAll(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    for (const managed of [...this.running].reverse()) await managed.stop(graceMs);
    process.removeListener('exit', this.onExit);
    for (const signal of signals) process.removeListener(signal, this.onSignal);
  }

  private forget(managed: ManagedProcess) {
    const index = this.running.indexOf(managed);
    if (index >= 0) this.running.splice(index, 1);
  }

  private killAllNow() {
    for (const managed of this.running) signalGroup(managed.pid, 'SIGKILL');
  }
}

const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function signalGroup(pid: number, signal: NodeJS.Signals) {
  if (pid <= 0) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function tailOf(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

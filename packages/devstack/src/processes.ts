import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, openSync, readFileSync } from 'node:fs';
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

/** How to (re)start one piece of the platform: the same command, ports and data every time. */
export interface ProcessSpec {
  name: string;
  launch(): ManagedProcess;
  /** Resolves once the process serves (health endpoint, open port, realm imported, …). */
  waitReady(process: ManagedProcess): Promise<void>;
}

/** A piece the supervisor keeps running, like a Kubernetes container with `restartPolicy: Always`. */
export interface SupervisedProcess {
  readonly name: string;
  /** The process now running (or the last one, while it is down). */
  current(): ManagedProcess;
  /** How many times it was restarted after a crash. */
  restarts(): number;
  /** Stops it on purpose: no restart until start(). */
  stop(): Promise<void>;
  /** Starts it again after stop(), same ports and data, and waits until it is ready. */
  start(): Promise<void>;
  /** SIGKILL, as a crash would: the supervisor notices and restarts it with back-off. */
  kill(): void;
}

/** Back-off between restarts of a crashing process: 0.5 s, 1 s, 2 s, … up to 30 s; reset after a minute of running. */
export const restartDelayMs = (consecutiveCrashes: number): number => Math.min(500 * 2 ** Math.max(0, consecutiveCrashes - 1), 30_000);
const stableAfterMs = 60_000;

/**
 * Starts children in their own process groups, restarts the ones that crash, and stops them in reverse order, so a
 * Ctrl-C never leaves an orphan (Keycloak's kc.sh forks java; daprd and FerretDB are single processes).
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
  private readonly supervisorLog: string;

  /**
   * Owns SIGINT/SIGTERM/SIGHUP from the first moment, so a Ctrl-C during a slow start (Keycloak takes ~40 s) still
   * stops every child; `exit` covers normal ends. Node runs no `exit` hook when a signal kills it, hence both.
   */
  constructor(
    private readonly logDir: string,
    private readonly announce: (what: NodeJS.Signals | 'stopped') => void = () => undefined,
    /** Restarts are reported here (npm start prints them); they are always written to logs/supervisor.log too. */
    private readonly report: (message: string) => void = () => undefined,
  ) {
    this.supervisorLog = path.join(logDir, 'supervisor.log');
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
        if (!running) {
          this.forget(managed);
          return;
        }
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
    void exited.then(() => {
      // Whatever the leader left in its group (kc.sh's java) goes with it, so a restart finds its ports free.
      signalGroup(pid, 'SIGKILL');
    });
    return managed;
  }

  /**
   * Starts a piece and keeps it running: when it exits without being asked to, it is started again after a back-off
   * (logged, and reported), with the same spec — same ports, same data. Resolves once the first start is ready.
   */
  async supervise(spec: ProcessSpec): Promise<SupervisedProcess> {
    let current = spec.launch();
    let wanted = true;
    let restarts = 0;
    let consecutiveCrashes = 0;
    let startedAt = Date.now();
    let restartTimer: NodeJS.Timeout | undefined;

    const watch = (process: ManagedProcess) => {
      void process.exited.then((how) => {
        if (!wanted || this.stopping || process !== current) return;
        consecutiveCrashes = Date.now() - startedAt > stableAfterMs ? 1 : consecutiveCrashes + 1;
        const delay = restartDelayMs(consecutiveCrashes);
        this.log(`${spec.name} exited (${how}); restarting in ${(delay / 1000).toFixed(1)} s (restart ${restarts + 1})`);
        restartTimer = setTimeout(() => {
          restartTimer = undefined;
          if (!wanted || this.stopping) return;
          restarts++;
          startedAt = Date.now();
          const crashed = current;
          current = spec.launch();
          this.takeSlotOf(crashed, current);
          watch(current);
          spec.waitReady(current).then(
            () => this.log(`${spec.name} is back (restart ${restarts})`),
            (error: unknown) => this.log(`${spec.name} did not become ready after restart ${restarts}: ${firstLine(error)}`),
          );
        }, delay);
        restartTimer.unref();
      });
    };
    watch(current);
    await spec.waitReady(current);

    return {
      name: spec.name,
      current: () => current,
      restarts: () => restarts,
      stop: async () => {
        wanted = false;
        if (restartTimer) clearTimeout(restartTimer);
        await current.stop();
      },
      start: async () => {
        if (current.isRunning()) return;
        if (restartTimer) clearTimeout(restartTimer);
        wanted = true;
        consecutiveCrashes = 0;
        startedAt = Date.now();
        current = spec.launch();
        watch(current);
        await spec.waitReady(current);
      },
      kill: () => signalGroup(current.pid, 'SIGKILL'),
    };
  }

  /** Stops everything, last started first. */
  async stopAll(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    for (const managed of [...this.running].reverse()) await managed.stop(graceMs);
    process.removeListener('exit', this.onExit);
    for (const signal of signals) process.removeListener(signal, this.onSignal);
  }

  private log(message: string) {
    try {
      appendFileSync(this.supervisorLog, `${new Date().toISOString()} ${message}\n`);
    } catch {
      // the run folder is gone (tests tearing down); the report below still says it
    }
    this.report(message);
  }

  /** A restarted process keeps its predecessor's place, so Ctrl-C still stops the platform in reverse start order. */
  private takeSlotOf(crashed: ManagedProcess, fresh: ManagedProcess) {
    this.forget(fresh);
    const index = this.running.indexOf(crashed);
    if (index >= 0) this.running.splice(index, 1, fresh);
    else this.running.push(fresh);
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

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0];

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

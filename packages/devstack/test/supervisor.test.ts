import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { restartDelayMs, Supervisor, type ProcessSpec } from '../src/processes';

const waitFor = async (done: () => boolean, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  return done();
};

describe('the devstack supervisor', () => {
  let logDir: string;
  let supervisor: Supervisor;
  beforeEach(() => {
    logDir = mkdtempSync(path.join(tmpdir(), 'mercato-supervisor-'));
    supervisor = new Supervisor(logDir);
  });
  afterEach(async () => {
    await supervisor.stopAll(1000);
    rmSync(logDir, { recursive: true, force: true });
  });

  const sleeper = (name: string): ProcessSpec => ({
    name,
    launch: () => supervisor.start(name, process.execPath, ['-e', 'setInterval(() => {}, 1000)']),
    waitReady: async () => undefined,
  });

  it('when a supervised process is killed, then it is started again and the restart is logged', async () => {
    const piece = await supervisor.supervise(sleeper('sleeper'));
    const firstPid = piece.current().pid;
    piece.kill();
    expect(await waitFor(() => piece.restarts() === 1 && piece.current().isRunning())).toBe(true);
    expect(piece.current().pid).not.toBe(firstPid);
    expect(readFileSync(path.join(logDir, 'supervisor.log'), 'utf8')).toMatch(/sleeper exited \(SIGKILL\); restarting in 0\.5 s/);
  });

  it('when a supervised process is stopped on purpose, then it stays down until started again', async () => {
    const piece = await supervisor.supervise(sleeper('stopped'));
    await piece.stop();
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(piece.current().isRunning()).toBe(false);
    expect(piece.restarts()).toBe(0);
    await piece.start();
    expect(piece.current().isRunning()).toBe(true);
  });

  it('when a process keeps crashing, then the delay between restarts doubles up to 30 s', () => {
    expect([1, 2, 3, 4, 5, 12].map(restartDelayMs)).toEqual([500, 1000, 2000, 4000, 8000, 30_000]);
  });
});

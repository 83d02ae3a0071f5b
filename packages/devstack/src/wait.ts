import { connect } from 'node:net';
import type { ManagedProcess } from './processes';

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Fail at once, with its log tail, if this process exits while we wait. */
  process?: ManagedProcess;
}

export async function waitUntil(what: string, probe: () => Promise<boolean>, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError = '';
  for (;;) {
    if (options.process && !options.process.isRunning()) {
      throw new Error(`${options.process.name} exited while waiting for ${what}:\n${options.process.tail()}`);
    }
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) {
      const log = options.process ? `\n--- ${options.process.name} log ---\n${options.process.tail()}` : '';
      throw new Error(`Timed out after ${options.timeoutMs}ms waiting for ${what}${lastError ? ` (${lastError})` : ''}${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
  }
}

export const httpOk = (url: string, init: RequestInit = {}) => async () => {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(2000) });
  return response.status >= 200 && response.status < 300;
};

export const tcpOpen = (port: number, host = '127.0.0.1') => () =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

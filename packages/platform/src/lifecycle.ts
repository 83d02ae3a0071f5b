import type { Server } from 'node:http';
import type { Express } from 'express';
import type { Logger } from './logger';

export interface RunningService {
  server: Server;
  /** Drains in-flight requests, runs the shutdown hooks, and resolves when everything is closed. */
  shutdown(reason: string): Promise<void>;
}

export interface ListenOptions {
  app: Express;
  host: string;
  port: number;
  logger: Logger;
  graceMs: number;
  /** Called with false as soon as shutdown starts, so readiness fails and new work is refused. */
  setAcceptingWork: (accepting: boolean) => void;
  /** Run after the server closed: close the database, stop timers, … */
  onShutdown: Array<() => Promise<void> | void>;
}

/**
 * Listens and owns the process signals. On SIGTERM/SIGINT it stops accepting work, lets in-flight requests finish
 * (up to graceMs), closes resources, and leaves the process to exit by itself once nothing is left open.
 */
export async function listen(options: ListenOptions): Promise<RunningService> {
  const { app, logger } = options;
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(options.port, options.host, (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  server.keepAliveTimeout = 65_000; // longer than nginx's/daprd's idle timeouts, so they close first
  logger.info('listening', { host: options.host, port: options.port });

  let closing: Promise<void> | undefined;
  const shutdown = (reason: string): Promise<void> => {
    closing ??= (async () => {
      logger.info('shutting down', { reason });
      options.setAcceptingWork(false);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections (daprd keeps them to its app) go idle once their last response is sent; close each as
      // soon as it does, or server.close() would wait out the whole grace period for them.
      server.closeIdleConnections();
      const idleSweep = setInterval(() => server.closeIdleConnections(), 50);
      const forced = setTimeout(() => {
        logger.warn('grace period over; closing remaining connections', { graceMs: options.graceMs });
        server.closeAllConnections();
      }, options.graceMs);
      forced.unref();
      await closed;
      clearInterval(idleSweep);
      clearTimeout(forced);
      for (const hook of options.onShutdown) {
        try {
          await hook();
        } catch (error) {
          logger.error('shutdown hook failed', { error: String(error) });
        }
      }
      logger.info('stopped');
    })();
    return closing;
  };

  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.on('unhandledRejection', (reason) => {
    logger.error('unhandled promise rejection', { reason: reason instanceof Error ? reason.stack : String(reason) });
    process.exitCode = 1;
    void shutdown('unhandledRejection');
  });
  process.on('uncaughtException', (error) => {
    // The process state is unknown after this; stop taking work and let the supervisor restart it.
    logger.error('uncaught exception', { error: error.stack ?? String(error) });
    process.exitCode = 1;
    void shutdown('uncaughtException');
  });
  return { server, shutdown };
}

/**
 * Serves an app that does not go through startService (no database of its own: the actor host, the web front end):
 * the app is built with a switch that turns false as soon as shutdown starts, for its readiness and its refusal of new
 * work, then listens with the platform's shutdown.
 */
export function serveApp(options: {
  config: { APP_HOST: string; APP_PORT: number; SHUTDOWN_GRACE_MS: number };
  logger: Logger;
  build: (isAcceptingWork: () => boolean) => Express;
  onShutdown?: ListenOptions['onShutdown'];
}): Promise<RunningService> {
  let accepting = true;
  return listen({
    app: options.build(() => accepting),
    host: options.config.APP_HOST,
    port: options.config.APP_PORT,
    logger: options.logger,
    graceMs: options.config.SHUTDOWN_GRACE_MS,
    setAcceptingWork: (value) => {
      accepting = value;
    },
    onShutdown: options.onShutdown ?? [],
  });
}

import { fstatSync, write as writeToFd, writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import winston from 'winston';
import { requestContext } from './request-context';

/** winston's npm levels, most severe first; config and the runtime switch both validate against this list. */
export const logLevels = ['error', 'warn', 'info', 'http', 'debug'] as const;
export type LogLevel = (typeof logLevels)[number];

/** What one finished (or aborted) request leaves in the log: enough to find it again by its traceId. */
export interface RequestLine {
  method: string;
  path: string;
  status: number;
  durationMs: number;
  requestId: string;
  traceId?: string | undefined;
  /** The client went away before the response was complete. */
  aborted?: boolean;
}

export interface Logger {
  error(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  http(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
  /** The per-request line at `http` level; a fast path beside winston's pipeline, same sink, same JSON shape. */
  request(line: RequestLine): void;
  /** Switches the level at runtime, without a restart. */
  setLevel(level: LogLevel): void;
  level(): LogLevel;
}

/** Where log lines go; `write` never blocks the request that logs. */
export interface LineSink {
  write(line: string): void;
  /** Writes whatever is buffered, synchronously (process exit). */
  flushNow(): void;
}

/** Above this many buffered bytes (the reader of stdout stalled) lines are dropped and counted, never queued forever. */
const maxBufferedBytes = 8 * 1024 * 1024;

/**
 * How long lines wait to be written together. A write per event-loop turn still meant about one write per request
 * under load, and that write cost the app more CPU than the request itself (docs/runtime.md, "request lines"); 20 ms
 * is invisible to someone tailing a log and gathers a dozen lines per write at 600 requests/s.
 */
const gatherMs = 20;
/** A batch this large is written at once, without waiting for the rest of the gathering time. */
const writeAtBytes = 64 * 1024;

/**
 * Lines are gathered for a few milliseconds and written together, instead of one synchronous write per line (stdout to
 * a file or a pipe is synchronous in Node). When stdout is a file, the write itself runs on libuv's thread pool, so a
 * slow disk never stalls a request. Buffered lines are written on exit, so only a SIGKILL can lose the last 20 ms.
 */
export function createStdoutSink(fd = 1): LineSink {
  const toFile = isFile(fd);
  let pending: string[] = [];
  let pendingBytes = 0;
  let dropped = 0;
  let timer: NodeJS.Timeout | undefined;
  let writing = false;

  const take = (): string => {
    if (dropped > 0) {
      pending.push(`${JSON.stringify({ level: 'warn', msg: 'log lines dropped: stdout could not keep up', count: dropped, timestamp: new Date().toISOString() })}\n`);
      dropped = 0;
    }
    const text = pending.join('');
    pending = [];
    pendingBytes = 0;
    return text;
  };
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (writing || pending.length === 0) return;
    const text = take();
    if (!toFile) {
      process.stdout.write(text);
      return;
    }
    writing = true;
    writeToFd(fd, text, (error) => {
      writing = false;
      if (error) process.stderr.write(text);
      if (pending.length > 0) flush();
    });
  };
  const flushNow = () => {
    if (pending.length === 0) return;
    const text = take();
    try {
      writeSync(fd, text);
    } catch {
      // stdout is gone; nothing left to tell
    }
  };
  process.once('exit', flushNow);
  return {
    write(line) {
      if (pendingBytes > maxBufferedBytes) {
        dropped++;
        return;
      }
      pending.push(line);
      pendingBytes += line.length;
      if (pendingBytes >= writeAtBytes) {
        if (!writing) flush();
      } else if (!timer) {
        // Unreferenced: pending lines never keep a process alive; the exit handler writes them.
        timer = setTimeout(flush, gatherMs).unref();
      }
    },
    flushNow,
  };
}

function isFile(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}

let sharedSink: LineSink | undefined;
const stdoutSink = (): LineSink => (sharedSink ??= createStdoutSink());

/** winston hands each formatted line to the same sink as the request fast path, so lines keep their order. */
const sinkStream = (sink: LineSink): Writable =>
  new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, done) {
      sink.write(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      done();
    },
  });

const severity: Record<LogLevel, number> = winston.config.npm.levels as Record<LogLevel, number>;

/** Every line is one JSON object with level, service, traceId (when inside a request) and msg. */
export function createLogger(service: string, level: LogLevel, sink: LineSink = stdoutSink()): Logger {
  const withContext = winston.format((info) => {
    const context = requestContext.getStore();
    if (context) {
      info['traceId'] ??= context.traceId;
      info['requestId'] ??= context.requestId;
    }
    return info;
  });
  // The house format says `msg`; winston says `message`. Rename last, after every other format has read it.
  const messageAsMsg = winston.format((info) => {
    info['msg'] = info.message;
    delete (info as { message?: unknown }).message;
    return info;
  });
  const base = winston.createLogger({
    level,
    levels: winston.config.npm.levels,
    defaultMeta: { service },
    format: winston.format.combine(
      withContext(),
      winston.format.timestamp(),
      winston.format.errors({ stack: true }),
      messageAsMsg(),
      winston.format.json(),
    ),
    transports: [new winston.transports.Stream({ stream: sinkStream(sink) })],
  });
  let current = level;
  const write = (lvl: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    if (severity[lvl] <= severity[current]) base.log(lvl, msg, fields);
  };
  return {
    error: write('error'),
    warn: write('warn'),
    info: write('info'),
    http: write('http'),
    debug: write('debug'),
    request(line) {
      if (severity.http > severity[current]) return;
      // winston's format chain and object-mode streams cost more than the request they describe; this line has a
      // fixed shape, so it is serialised directly.
      sink.write(
        `${JSON.stringify({
          level: 'http',
          service,
          msg: 'request',
          traceId: line.traceId,
          requestId: line.requestId,
          method: line.method,
          path: line.path,
          status: line.status,
          durationMs: Math.round(line.durationMs * 1000) / 1000,
          aborted: line.aborted || undefined,
          timestamp: new Date().toISOString(),
        })}\n`,
      );
    },
    setLevel(next) {
      current = next;
      base.level = next;
    },
    level: () => current,
  };
}

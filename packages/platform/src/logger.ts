import winston from 'winston';
import { requestContext } from './request-context';

/** winston's npm levels, most severe first; config and the runtime switch both validate against this list. */
export const logLevels = ['error', 'warn', 'info', 'http', 'debug'] as const;
export type LogLevel = (typeof logLevels)[number];

export interface Logger {
  error(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  http(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
  /** Switches the level at runtime, without a restart. */
  setLevel(level: LogLevel): void;
  level(): LogLevel;
}

/** Every line is one JSON object with level, service, traceId (when inside a request) and msg. */
export function createLogger(service: string, level: LogLevel): Logger {
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
    transports: [new winston.transports.Console()],
  });
  const write = (lvl: LogLevel) => (msg: string, fields?: Record<string, unknown>) => base.log(lvl, msg, fields);
  return {
    error: write('error'),
    warn: write('warn'),
    info: write('info'),
    http: write('http'),
    debug: write('debug'),
    setLevel(next) {
      base.level = next;
    },
    level: () => base.level as LogLevel,
  };
}

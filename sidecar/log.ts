/**
 * JSON logs on stdout with pino. Lines whitelist what they print: no request headers are ever
 * logged (fastify's default serializer does the same), so keys and tokens cannot leak by accident;
 * the redact paths are a second line of defence for fields a future change might add.
 *
 * Stdout is written in batches (createStdoutDestination): one asynchronous write per line cost more
 * CPU than anything else the sidecar does per request, because each went through libuv's thread
 * pool (three futex calls, the write, a wake-up of the event loop) as bench/profile.ts and strace
 * showed. Lines are held until 8 KiB have gathered or 100 ms have passed; pino.destination writes
 * what is held synchronously when the process exits, on any path (process.exit, an uncaught
 * exception, the end of the event loop).
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export interface Loggers {
  /** Operational lines: `"name":"mcp-warden"`. */
  readonly log: Logger;
  /** One line per JSON-RPC request: `"name":"audit"` (ship or filter them by that name). */
  readonly audit: Logger;
  /** The per-request line of `log` (see createRequestLogger). */
  readonly request: RequestLogger;
}

/** What pino redacts, wherever a line has it. */
export const REDACT_PATHS: readonly string[] = ['headers.authorization', 'headers["x-api-key"]', 'token', 'key', '*.token', '*.key'];
const OPERATIONAL_NAME = 'mcp-warden';

/**
 * `,"time":"<ISO 8601>"` as pino.stdTimeFunctions.isoTime writes it, with the date and time up to
 * the second built once a second: toISOString on every line was a third of a line's cost.
 */
export function isoTime(now = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = `,"time":"${new Date(second * 1000).toISOString().slice(0, -4)}`;
  }
  const ms = now - second * 1000;
  return `${isoPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z"`;
}
let isoSecond = NaN;
let isoPrefix = '';

/**
 * Two named loggers over one destination, so their lines never interleave mid-line. Without one,
 * stdout line by line (the sidecar passes createStdoutDestination()).
 */
export function createLoggers(opts: { level: string; destination?: DestinationStream }): Loggers {
  const destination = opts.destination ?? pino.destination({ fd: 1, sync: false });
  const root = pino(
    {
      level: opts.level,
      base: undefined,
      timestamp: isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACT_PATHS], censor: CENSOR },
    },
    destination,
  );
  const log = root.child({ name: OPERATIONAL_NAME });
  return { log, audit: root.child({ name: 'audit' }), request: createRequestLogger(log, destination) };
}

const CENSOR = '[redacted]';
/** The redact paths that name a top-level field; the others only reach into objects. */
const REDACTED_FIELDS: ReadonlySet<string> = new Set(REDACT_PATHS.filter((p) => !/[.[]/.test(p)));

/** Writes the line for one request: `fields` in order, undefined ones left out, `msg` "request". */
export type RequestLogger = (fields: Record<string, unknown>) => void;

/**
 * The per-request line, byte for byte as `log.info(fields, 'request')` writes it, without pino's
 * generic path. In the sidecar's profile that line cost about 20 us a request, more than DLP, auth
 * and the header rewriting together; built here from its few primitive fields it costs a fraction.
 * The redaction stays: a top-level field pino would redact is censored the same way, and a line
 * with any object value (where the nested redact paths apply) goes through pino itself.
 */
function createRequestLogger(log: Logger, destination: DestinationStream): RequestLogger {
  const name = `,"name":${JSON.stringify(OPERATIONAL_NAME)}`;
  return (fields) => {
    if (!log.isLevelEnabled('info')) return;
    let props = '';
    for (const key in fields) {
      const v = fields[key];
      let json: string;
      switch (typeof v) {
        case 'undefined':
        case 'function':
          continue;
        case 'string':
          json = JSON.stringify(v);
          break;
        case 'number':
          json = Number.isFinite(v) ? String(v) : 'null';
          break;
        case 'boolean':
          json = v ? 'true' : 'false';
          break;
        default:
          if (v !== null) return void log.info(fields, 'request');
          json = 'null';
      }
      props += `,${JSON.stringify(key)}:${REDACTED_FIELDS.has(key) ? `"${CENSOR}"` : json}`;
    }
    destination.write(`{"level":"info"${isoTime()}${name}${props},"msg":"request"}\n`);
  };
}

/** Bytes of log lines gathered before a write. */
export const LOG_BATCH_BYTES = 8 * 1024;
/** The longest a line waits before it is written. */
export const LOG_FLUSH_MS = 100;

/** Stdout in batches of LOG_BATCH_BYTES, at most LOG_FLUSH_MS late. */
export function createStdoutDestination(fd = 1): DestinationStream {
  // Buffer mode: in text mode sonic-boom measures the UTF-8 length of the whole batch held so far
  // on every write, which made each line cost more (about 9 us at 8 KiB) than building it.
  const dest = pino.destination({ fd, sync: false, minLength: LOG_BATCH_BYTES, contentMode: 'buffer' });
  // sonic-boom's own periodicFlush writes an empty buffer every period even when idle; this timer
  // flushes only after lines came. A flush while a write is in flight is a no-op there, so the
  // tick after a flush flushes once more: every line is out within two ticks, and the timer ticks
  // twice per LOG_FLUSH_MS so that two ticks keep the promise (unless stdout's reader has stalled
  // a write for longer than that; the next line or the exit then flushes).
  let dirty = false;
  let again = false;
  setInterval(() => {
    if (!dirty && !again) return;
    again = dirty;
    dirty = false;
    dest.flush();
  }, LOG_FLUSH_MS / 2).unref();
  return {
    write(line: string) {
      dirty = true;
      // sonic-boom's types know only strings; in buffer mode it takes Buffers.
      dest.write(Buffer.from(line) as unknown as string);
    },
    // pino's logger.flush() reaches the real destination.
    flush: (cb?: (err?: Error) => void) => dest.flush(cb),
  } as DestinationStream;
}

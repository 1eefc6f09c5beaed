/**
 * JSON logs on stdout with pino. Lines whitelist what they print: no request headers are ever
 * logged (fastify's default serializer does the same), so keys and tokens cannot leak by accident;
 * the redact paths are a second line of defence for fields a future change might add.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export interface Loggers {
  /** Operational lines: `"name":"mcp-warden"`. */
  readonly log: Logger;
  /** One line per JSON-RPC request: `"name":"audit"` (ship or filter them by that name). */
  readonly audit: Logger;
}

/** Two named loggers over one destination, so their lines never interleave mid-line. */
export function createLoggers(opts: { level: string; destination?: DestinationStream }): Loggers {
  const root = pino(
    {
      level: opts.level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: ['headers.authorization', 'headers["x-api-key"]', 'token', 'key', '*.token', '*.key'], censor: '[redacted]' },
    },
    opts.destination ?? pino.destination({ fd: 1, sync: false }),
  );
  return { log: root.child({ name: 'mcp-warden' }), audit: root.child({ name: 'audit' }) };
}

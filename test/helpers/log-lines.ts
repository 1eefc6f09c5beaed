/**
 * A pino destination that keeps what is logged: each JSON line parsed, in order, and the raw text
 * (to assert that a secret never appears). A line split across writes is parsed once complete.
 */
import { Writable } from 'node:stream';

export interface LogLines<T = Record<string, unknown>> {
  /** Give this to pino (createLoggers' `destination`). */
  readonly destination: Writable;
  /** Every complete line so far, parsed. */
  readonly lines: T[];
  /** Everything written so far. */
  raw(): string;
}

export function captureLogLines<T = Record<string, unknown>>(): LogLines<T> {
  const lines: T[] = [];
  let raw = '';
  let partial = '';
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const text = chunk.toString();
      raw += text;
      const parts = (partial + text).split('\n');
      partial = parts.pop()!;
      for (const line of parts) if (line.trim()) lines.push(JSON.parse(line) as T);
      cb();
    },
  });
  return { destination, lines, raw: () => raw };
}

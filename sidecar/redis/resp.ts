/**
 * RESP2, the Redis wire protocol (https://redis.io/docs/latest/develop/reference/protocol-spec/):
 * encode a command, and parse replies out of a byte stream that TCP may split anywhere.
 *
 * Only what RESP2 servers send: simple strings (`+`), errors (`-`), integers (`:`), bulk strings
 * (`$`, `$-1` is null) and arrays (`*`, `*-1` is null). Pure functions, no I/O.
 */

/** An error reply (`-ERR ...`, `-NOSCRIPT ...`). `code` is its first word, as Redis clients expose it. */
export class RedisReplyError extends Error {
  readonly code: string;
  constructor(message: string) {
    super(message);
    this.name = 'RedisReplyError';
    const space = message.indexOf(' ');
    this.code = space > 0 ? message.slice(0, space) : message;
  }
}

export type RespValue = string | number | null | RedisReplyError | RespValue[];

/** A command as RESP: an array of bulk strings. */
export function encodeCommand(args: readonly string[]): string {
  let out = `*${args.length}\r\n`;
  for (const a of args) out += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return out;
}

/** Marks "the buffer ends inside this reply": wait for more bytes. */
const INCOMPLETE = Symbol('incomplete');
type Step = { value: RespValue; end: number } | typeof INCOMPLETE;

/** Longest header line accepted (`$12345\r\n`); anything longer is a protocol error, not a wait. */
const MAX_LINE = 64;

function lineEnd(buf: Buffer, from: number): number {
  const cr = buf.indexOf(13, from);
  if (cr < 0 || cr + 1 >= buf.length) {
    if (buf.length - from > MAX_LINE) throw new Error('RESP protocol error: header line too long');
    return -1;
  }
  if (buf[cr + 1] !== 10) throw new Error('RESP protocol error: CR without LF');
  return cr;
}

function int(buf: Buffer, from: number, to: number): number {
  const n = Number(buf.toString('latin1', from, to));
  if (!Number.isSafeInteger(n)) throw new Error('RESP protocol error: bad integer');
  return n;
}

function parseAt(buf: Buffer, at: number): Step {
  if (at >= buf.length) return INCOMPLETE;
  const type = buf[at];
  const cr = lineEnd(buf, at + 1);
  if (cr < 0) return INCOMPLETE;
  switch (type) {
    case 43: // '+'
      return { value: buf.toString('latin1', at + 1, cr), end: cr + 2 };
    case 45: // '-'
      return { value: new RedisReplyError(buf.toString('utf8', at + 1, cr)), end: cr + 2 };
    case 58: // ':'
      return { value: int(buf, at + 1, cr), end: cr + 2 };
    case 36: {
      // '$'
      const len = int(buf, at + 1, cr);
      if (len < 0) return { value: null, end: cr + 2 };
      const start = cr + 2;
      if (buf.length < start + len + 2) return INCOMPLETE;
      return { value: buf.toString('utf8', start, start + len), end: start + len + 2 };
    }
    case 42: {
      // '*'
      const n = int(buf, at + 1, cr);
      if (n < 0) return { value: null, end: cr + 2 };
      const items: RespValue[] = [];
      let end = cr + 2;
      for (let i = 0; i < n; i++) {
        const s = parseAt(buf, end);
        if (s === INCOMPLETE) return INCOMPLETE;
        items.push(s.value);
        end = s.end;
      }
      return { value: items, end };
    }
    default:
      throw new Error(`RESP protocol error: unexpected type byte ${type}`);
  }
}

/**
 * A reply reader: feed it chunks as they arrive; it calls `onReply` once per complete reply, in
 * order. A reply split across chunks is parsed again once the rest arrives (replies here are a few
 * dozen bytes, so that costs less than keeping parser state). Throws on bytes that are not RESP:
 * the caller must drop the connection, since nothing after that point can be matched to a command.
 */
export function createReplyReader(onReply: (value: RespValue) => void): (chunk: Buffer) => void {
  let pending: Buffer | undefined;
  return (chunk) => {
    const buf = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
    pending = undefined;
    let at = 0;
    while (at < buf.length) {
      const s = parseAt(buf, at);
      if (s === INCOMPLETE) break;
      at = s.end;
      onReply(s.value);
    }
    // Copy the rest: the socket may reuse the chunk's memory.
    if (at < buf.length) pending = Buffer.from(buf.subarray(at));
  };
}

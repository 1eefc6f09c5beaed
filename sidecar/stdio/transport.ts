/**
 * An MCP Transport over the FIFO pair: newline-delimited JSON-RPC, framed by the SDK's own
 * ReadBuffer and serializeMessage (the stdio transport's framing), so the bridge's Client speaks to
 * the server exactly as it would over a spawned child's pipes. `onclose` fires once, when the
 * server's stdout ends or either FIFO fails: that is how the bridge learns the server exited.
 */
import { ReadBuffer, serializeMessage, type JSONRPCMessage, type Transport } from '@modelcontextprotocol/client';
import type { FifoPair } from './fifo.ts';

/** Bound on one message from the server (the SDK's stdio default is 10 MB too). */
export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

export class FifoTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private readonly buffer = new ReadBuffer({ maxBufferSize: MAX_MESSAGE_BYTES });
  private closed = false;
  private readonly pair: FifoPair;

  constructor(pair: FifoPair) {
    this.pair = pair;
  }

  async start(): Promise<void> {
    const { fromServer, toServer } = this.pair;
    fromServer.on('data', (chunk: Buffer) => this.read(chunk));
    fromServer.on('end', () => this.finish());
    fromServer.on('close', () => this.finish());
    fromServer.on('error', (err) => this.fail(err));
    // EPIPE here means the server closed its stdin: it is gone or going.
    toServer.on('error', (err) => this.fail(err));
    toServer.on('close', () => this.finish());
  }

  private read(chunk: Buffer): void {
    try {
      this.buffer.append(chunk);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    for (;;) {
      let message: JSONRPCMessage | null;
      try {
        message = this.buffer.readMessage();
      } catch (err) {
        // A line that is JSON but not JSON-RPC: report it and read on (non-JSON lines are skipped by the buffer).
        this.onerror?.(err as Error);
        continue;
      }
      if (message === null) return;
      this.onmessage?.(message);
    }
  }

  private fail(err: Error): void {
    this.onerror?.(err);
    this.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.pair.toServer.destroy();
    this.pair.fromServer.destroy();
    this.buffer.clear();
    this.onclose?.();
  }

  send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the stdio server is gone'));
    return new Promise((resolve, reject) => {
      this.pair.toServer.write(serializeMessage(message), (err) => (err ? reject(err) : resolve()));
    });
  }

  /** End the server's stdin (it sees EOF, the stdio way to ask it to exit) and stop reading. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.pair.toServer.end();
    this.finish();
  }
}

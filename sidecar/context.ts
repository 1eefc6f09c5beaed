/**
 * The shapes every stage of the request pipeline shares. A request walks one straight line (the
 * order is pipeline.ts's): request target and framing checks, exempt?, CORS, limits, Origin,
 * authentication, the body and its MCP message, request DLP, tool policy, the stream cap, forward,
 * then response stages (stream slot, tools/list filter, DLP).
 *
 * Each stage is a small module that takes a RequestContext and either lets the request go on
 * (returns undefined, possibly after adding to the context) or ends it with a Reply. Stages never
 * write to the socket themselves: the edge (edge/exchange.ts, edge/reply.ts) turns a Reply into
 * bytes, so every refusal is logged, counted and audited in one place.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Transform } from 'node:stream';
import type { ErrorCode } from './errors.ts';
import { bodyKind, type BodyKind } from './proxy/media-type.ts';

/** Who is calling, once authenticated. */
export interface Identity {
  /** How the caller proved itself. `none` when auth is off. */
  readonly kind: 'apikey' | 'jwt' | 'none';
  /**
   * A stable identifier that is safe to log and to key rate limits on: for an API key a short
   * hash of it (`key:ab12cd34ef56`), for a JWT a hash of iss+sub (`jwt:...`); never the secret.
   */
  readonly id: string;
  /** JWT `sub`, when there is one (logged in audit lines, forwarded with MCP_AUTH_FORWARD_IDENTITY). */
  readonly subject?: string;
  /** JWT `iss`. */
  readonly issuer?: string;
  /** Groups from the configured claim; empty for API keys. */
  readonly groups: readonly string[];
  /** Scopes from `scope` or `scp`; empty for API keys. */
  readonly scopes: readonly string[];
  /** Token expiry (seconds since epoch), for JWTs. */
  readonly expiresAt?: number;
}

/** A JSON-RPC request or notification read from the request body. */
export interface RpcCall {
  readonly id: string | number | null | undefined;
  readonly method: string;
  /** For tools/call: the tool's name. */
  readonly tool?: string;
}

/** A message as policy and audit see it: RpcCall plus what audit needs. Arguments themselves are not kept. */
export interface ParsedCall extends RpcCall {
  /** `request` has an id, `notification` has none, `response` answers a server-to-client request. */
  readonly kind: 'request' | 'notification' | 'response';
  /** True when the body was a batch (an array), even of one message: its answer is an array too. */
  readonly batch: boolean;
  /** For tools/call: hex SHA-256 of the RFC 8785-style canonical JSON of `params.arguments`. */
  readonly argsSha256?: string;
  /** For tools/call: UTF-8 size of that canonical JSON. */
  readonly argsBytes?: number;
}

/** MCP protocol eras (basic/versioning): 2025-11-25 and earlier, or 2026-07-28 and later. */
export type Era = 'legacy' | 'modern';

/** A parsed, era-classified JSON-RPC body (mcp/message.ts, mcp/era.ts). */
export interface McpMessage {
  readonly era: Era;
  /**
   * The protocol revision the request names. Modern: its `_meta` version (which the header must
   * equal). Legacy: the `MCP-Protocol-Version` header (sent from 2025-06-18 on), or an `initialize`
   * request's `params.protocolVersion`; undefined when neither names one (2025-03-26 clients after
   * initialize, the 2024-11-05 SSE transport).
   */
  readonly protocolVersion: string | undefined;
  /** Every message of the body (one, or a legacy batch). */
  readonly calls: readonly ParsedCall[];
  /** The parsed body: one message object, or an array for a batch. */
  readonly doc: unknown;
}

/** What reading the body gave: the message, or why it cannot be read (415, or 400 with -32700/-32600). */
export type MessageRead = { readonly ok: true; readonly message: McpMessage } | { readonly ok: false; readonly reply: Reply };

/** How a stage ends a request. The edge writes it, logs it, counts it by `code`. */
export interface Reply {
  readonly status: number;
  readonly code: ErrorCode | 'OK';
  readonly headers?: Readonly<Record<string, string>>;
  /** Body; objects are sent as JSON. */
  readonly body?: unknown;
  /** Close the connection after replying (smuggling shapes, malformed framing). */
  readonly close?: boolean;
}

/** The upstream's response as a transform sees it: status and headers, before any byte is sent. */
export interface UpstreamResponseHead {
  readonly status: number;
  /** Response headers, lower-case names; a transform may change them (redact a value), never Content-Type. */
  readonly headers: Record<string, string | string[]>;
  /** What the Content-Type says the body is, classified once for every stage. */
  readonly kind: BodyKind;
}

/** The head of an upstream response, its Content-Type classified (proxy/media-type.ts). */
export function upstreamResponseHead(status: number, headers: Record<string, string | string[]>): UpstreamResponseHead {
  return { status, headers, kind: bodyKind(headers['content-type']) };
}

/**
 * How a response stage rewrites a body, in two forms that give the same bytes: `stream()` for a body
 * relayed as it arrives (bytes in, bytes out), `whole()` for a small body the edge holds complete
 * (one write, a Content-Length). Both fail with a WardenError (its status and code become the
 * client's answer when nothing has been sent yet).
 */
export interface BodyRewriter {
  stream(): Transform;
  whole(body: Buffer): Buffer;
}

/**
 * A response stage: given the upstream's status and headers (which it may change: drop an ETag,
 * redact a value; framing is the relay's), returns a BodyRewriter for the body, undefined to leave
 * the body alone, or a Reply that refuses the response (an unknown Content-Encoding under DLP, a stream over
 * the caller's limit); the upstream body is then discarded unsent. Stages run in the order they were
 * added.
 */
export type ResponseStage = (head: UpstreamResponseHead, ctx: RequestContext) => BodyRewriter | Reply | undefined;

export interface RequestContext {
  /** Monotonic start time (performance.now()). */
  readonly startedAt: number;
  readonly method: string;
  /** The canonical path (see paths.ts); the query string is kept separately. */
  readonly path: string;
  /** The raw query string including '?', or ''. */
  readonly search: string;
  /** Incoming headers as Node parsed them (lower-case names). Stages read, never write these. */
  readonly headers: IncomingHttpHeaders;
  /** The client's IP: the socket peer, or X-Forwarded-For when the peer is a trusted proxy. */
  clientIp: string;
  /** Set by authentication. */
  identity: Identity | undefined;
  /** The request body when a stage needed it (JSON-RPC POSTs, within the body cap). */
  body: Buffer | undefined;
  /** JSON-RPC calls parsed from the body (one, or several for a batch); the same as ctx.message's. */
  rpc: readonly RpcCall[] | undefined;
  /**
   * The body as read once after it arrived (mcp/stage.ts): its era, revision and messages, their
   * mirrored headers checked; or why it could not be read. Every later stage reads this, never the
   * body or a header again. Undefined when the request carries no body to read (GET, DELETE).
   */
  message: MessageRead | undefined;
  /** Header names (lower case) never to forward: the API key header, Authorization, identity headers. */
  readonly dropHeaders: Set<string>;
  /** Headers to add to the upstream request (set after dropping, so a client cannot forge them). */
  readonly addHeaders: Record<string, string>;
  /** Headers for the client's response whatever it is (RateLimit fields); a Reply's own headers win. */
  readonly responseHeaders: Record<string, string>;
  /** Set by the pipeline for exempt health paths (auth, limits and policy skipped; DLP still on). */
  exempt: boolean;
  /** Stages for the upstream's response, in order. */
  readonly responseStages: ResponseStage[];
  /** Called once the response is finished or the client went away (stream slots, audit). */
  readonly onDone: Array<(outcome: { status: number; aborted: boolean }) => void>;
  /** Extra fields for this request's log line (never secrets). */
  readonly logFields: Record<string, unknown>;
}

/** A pipeline stage. Returns a Reply to end the request, or undefined to go on. */
export type Stage = (ctx: RequestContext) => Reply | undefined | Promise<Reply | undefined>;

/**
 * `f(value)`, now when `value` is not a promise, else once it resolves. Stages are synchronous
 * unless they must wait (a JWT key fetch, a Redis rate limit): an `await` on each one cost a
 * promise and a microtask per stage per request.
 */
export function andThen<T, U>(value: T | Promise<T>, f: (v: T) => U | Promise<U>): U | Promise<U> {
  return value instanceof Promise ? value.then(f) : f(value);
}

/** A fresh context for one request, before any stage has run. */
export function createRequestContext(init: Pick<RequestContext, 'startedAt' | 'method' | 'headers' | 'clientIp'> & Partial<Pick<RequestContext, 'path' | 'search' | 'identity' | 'body' | 'rpc'>>): RequestContext {
  // Every field spelled out in one order (no spread): one object shape for every request.
  return {
    startedAt: init.startedAt,
    method: init.method,
    headers: init.headers,
    clientIp: init.clientIp,
    path: init.path ?? '',
    search: init.search ?? '',
    identity: init.identity,
    body: init.body,
    rpc: init.rpc,
    message: undefined,
    exempt: false,
    dropHeaders: new Set(),
    addHeaders: {},
    responseHeaders: {},
    responseStages: [],
    onDone: [],
    logFields: {},
  };
}

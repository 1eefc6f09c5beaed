/** Test helpers for the rate-limit stages: a RequestContext, a clock, a config. */
import type { IncomingHttpHeaders } from 'node:http';
import type { Identity, Reply, RequestContext, RpcCall } from '../../../sidecar/context.ts';
import type { LimiterConfig } from '../../../sidecar/limit/limiter.ts';
import { parseToolLimits } from '../../../sidecar/limit/tool-limits.ts';
import { makeContext } from '../../helpers/context.ts';

export type Ctx = RequestContext;

export function makeCtx(o: { ip?: string; identity?: Identity; rpc?: RpcCall[]; method?: string; headers?: IncomingHttpHeaders } = {}): Ctx {
  return makeContext(o);
}

export const apiKey = (id: string): Identity => ({ kind: 'apikey', id: `key:${id}`, groups: [], scopes: [] });

export function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms), set: (ms: number) => void (t = ms) };
}

export function limiterConfig(o: Partial<Omit<LimiterConfig, 'sections'>> & { tools?: unknown } = {}): LimiterConfig {
  const tools = parseToolLimits(o.tools, 'rateLimit.tools');
  if (tools.issues.length > 0) throw new Error(JSON.stringify(tools.issues));
  return {
    rateLimitPerMinute: o.rateLimitPerMinute,
    rateLimitBurst: o.rateLimitBurst,
    rateLimitPerIpPerMinute: o.rateLimitPerIpPerMinute,
    rateLimitMaxKeys: o.rateLimitMaxKeys ?? 100_000,
    maxStreamsPerIdentity: o.maxStreamsPerIdentity,
    sections: { 'rateLimit.tools': tools.value },
  };
}

/** Run a stage (sync or async) to its Reply. */
export async function run(stage: ((ctx: RequestContext) => Reply | undefined | Promise<Reply | undefined>) | undefined, ctx: RequestContext): Promise<Reply | undefined> {
  if (stage === undefined) throw new Error('stage not configured');
  return stage(ctx);
}

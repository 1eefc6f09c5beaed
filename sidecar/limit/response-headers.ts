/** Headers a stage adds to the response it lets through (RateLimit fields on a 200). */
import type { RequestContext } from '../context.ts';

/** The context's response-header record; the edge writes it on every response. */
export function withResponseHeaders(ctx: RequestContext): Record<string, string> {
  return ctx.responseHeaders;
}

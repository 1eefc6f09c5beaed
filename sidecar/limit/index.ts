/** Rate limits: the pipeline stages, client-IP resolution and the store seam. Re-exports only. */
export { createRateLimiter, type LimiterConfig, type RateLimiter, type RateLimiterDeps } from './limiter.ts';
export { clientIp, parseTrustedProxies, type TrustedProxies } from './client-ip.ts';
export { ipKey, parseIp, type ParsedIp } from './ip.ts';
export { createMemoryStore, storeBytes, type MemoryStore, type MemoryStoreOptions } from './memory-store.ts';
export type { RateLimitStore } from './store.ts';
export { bucketPolicy, takeToken, type BucketPolicy, type TakeResult } from './token-bucket.ts';
export { createStreamLimiter, opensStream, STREAM_RETRY_AFTER_S, type StreamLimiter } from './streams.ts';
export { RATELIMIT, RATELIMIT_POLICY, RETRY_AFTER, type LimitLabel } from './headers.ts';
export { withResponseHeaders } from './response-headers.ts';
export { defaultBurst, parseToolLimits, type ToolLimit, type ToolLimits } from './tool-limits.ts';

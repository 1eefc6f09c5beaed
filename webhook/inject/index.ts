/** The injector's public surface. */
export { inject, type InjectOptions, type InjectResult } from './inject.ts';
export { ANNOTATIONS, PREFIX, parseRate } from './annotations.ts';
export { SKIP_REASONS, describeSkip, type SkipReason } from './decide.ts';
export { SIDECAR_NAME, SIDECAR_UID } from './render.ts';
export { readStatus, type InjectionStatus } from './status.ts';
export type { PodLike } from './types.ts';

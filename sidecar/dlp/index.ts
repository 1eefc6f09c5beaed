/** DLP: default rules, custom patterns, the redactor and the response/request stages. */
export { DEFAULT_RULES, type DlpRule } from './rules.ts';
export { parseDlpPatterns, regexSafetyProblem, MAX_CUSTOM_MATCH, type DlpPattern } from './patterns.ts';
export { createRedactor, type Redactor, type RedactorOptions, type RedactResult } from './redactor.ts';
export { createDlpTransform, bodyKind, DEFAULT_MAX_DECODED_BYTES, DEFAULT_MAX_EVENT_BYTES, type DlpTransformOptions } from './transform.ts';
export { redactRequestBody } from './request.ts';
export { blockedRpcError, DLP_BLOCKED_RPC_CODE } from './block.ts';

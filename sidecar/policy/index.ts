/** Tool policy: JSON-RPC parsing, allow/deny decisions, the tools/list filter, audit records. */
export { parseJsonRpc, rpcErrorReply, mediaType, RPC_ERROR, MAX_BATCH, type ParsedCall, type ParseResult } from './jsonrpc.ts';
export { compilePolicy, decideTool, type ToolPolicy, type PolicySource } from './tools.ts';
export { createToolsListFilter, DEFAULT_MAX_BUFFER_BYTES, type ToolsListFilterOptions } from './tools-list-filter.ts';
export { auditRecord, AUDIT_MAX_FIELD, type AuditRecord, type AuditInput } from './audit.ts';
export { createToolLabeler, DEFAULT_MAX_DYNAMIC_LABELS, OTHER_LABEL, INVALID_LABEL } from './labels.ts';
export { canonicalJson } from './canonical-json.ts';
export { createToolPolicyStage, type ToolPolicyDeps } from './stage.ts';
export { parseToolGroups, type GroupPolicy, type ToolGroups } from './groups.ts';

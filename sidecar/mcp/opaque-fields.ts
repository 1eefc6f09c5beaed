/**
 * The fields of a JSON-RPC message that are protocol-opaque: values one side mints and the other
 * must hand back byte for byte, or use only to match a message to another. DLP never alters them
 * (dlp/json-view.ts masks them from the scanner), in requests and in responses, JSON bodies and SSE
 * events alike:
 *
 * - `id`, and `params.requestId` (legacy `notifications/cancelled`): JSON-RPC correlation;
 * - `result.requestState` and the echoed `params.requestState` (MRTR, basic/patterns/mrtr: "an
 *   opaque string ... Clients MUST NOT inspect, parse, modify"; servers integrity-check it);
 * - `result.nextCursor` and `params.cursor` (pagination: "an opaque token");
 * - `params._meta.progressToken` and `params.progressToken` (progress: "an opaque token");
 * - the `io.modelcontextprotocol/subscriptionId` `_meta` key of `subscriptions/listen`
 *   notifications and results;
 * - task ids of the tasks extension (`params.taskId`, `result.taskId`, `result.task.taskId`, and
 *   the `io.modelcontextprotocol/related-task` `_meta` key);
 * - `params.elicitationId` (2025-11-25 URL elicitation);
 * - the request's protocol version (`params._meta` `io.modelcontextprotocol/protocolVersion`): not
 *   opaque, but protocol, which the MCP-Protocol-Version header must equal; a custom rule that
 *   matches dates must not turn it into an unsupported version.
 *
 * Everything else is content and is scanned: tool arguments and results, resource contents, prompt
 * messages, elicitation questions inside an InputRequiredResult, `inputResponses`, error messages,
 * and every object key. The paths are relative to a message: the body itself, or each element of a
 * batch. A value under such a path that is an object or an array is scanned as content (none of
 * these fields is one).
 */

const SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';
const PROTOCOL_VERSION = 'io.modelcontextprotocol/protocolVersion';
const RELATED_TASK = 'io.modelcontextprotocol/related-task';

export const OPAQUE_FIELDS: readonly (readonly string[])[] = Object.freeze([
  ['id'],
  ['params', 'requestId'],
  ['result', 'requestState'],
  ['params', 'requestState'],
  ['result', 'nextCursor'],
  ['params', 'cursor'],
  ['params', 'progressToken'],
  ['params', '_meta', 'progressToken'],
  ['params', '_meta', SUBSCRIPTION_ID],
  ['result', '_meta', SUBSCRIPTION_ID],
  ['params', 'taskId'],
  ['result', 'taskId'],
  ['result', 'task', 'taskId'],
  ['params', '_meta', RELATED_TASK, 'taskId'],
  ['result', '_meta', RELATED_TASK, 'taskId'],
  ['params', 'elicitationId'],
  ['params', '_meta', PROTOCOL_VERSION],
]);

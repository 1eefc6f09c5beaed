/**
 * Metric label for a tool name, with bounded cardinality. Tool names come from clients, so a caller
 * sending a million random names must not create a million time series in
 * `mcp_warden_tool_calls_total{tool,decision}`.
 */
import { TOOL_NAME } from '../settings.ts';
import type { ToolPolicy } from './tools.ts';

/** Distinct unconfigured names labelled by name before the rest become `other`. */
export const DEFAULT_MAX_DYNAMIC_LABELS = 200;

/** Label for a tools/call whose name is missing or not a string. */
export const INVALID_LABEL = 'invalid';
/** Label for any name past the bound, or not shaped like a tool name. */
export const OTHER_LABEL = 'other';

/**
 * Returns `label(tool)`: a name written in the policy is always its own label; any other name that
 * matches TOOL_NAME is its own label for the first `max` distinct such names seen (the tools the
 * upstream really has are called early and often, so they get theirs); everything else is `other`.
 * A configured name can never be shadowed, so alerts on a denied tool keep working under a flood.
 */
export function createToolLabeler(policy: ToolPolicy, max = DEFAULT_MAX_DYNAMIC_LABELS): (tool: string | undefined) => string {
  if (!Number.isSafeInteger(max) || max < 0) throw new RangeError(`createToolLabeler: max must be a whole number >= 0; got ${max}`);
  const seen = new Set<string>();
  return (tool) => {
    if (tool === undefined) return INVALID_LABEL;
    if (policy.named.has(tool)) return tool;
    // Reserved words would be ambiguous: a real tool named "other" counts with the overflow.
    if (!TOOL_NAME.test(tool) || tool === OTHER_LABEL || tool === INVALID_LABEL) return OTHER_LABEL;
    if (seen.has(tool)) return tool;
    if (seen.size >= max) return OTHER_LABEL;
    seen.add(tool);
    return tool;
  };
}

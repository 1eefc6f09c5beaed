/**
 * Which tools an identity may call: the global allow and deny lists (MCP_AUTH_ALLOW_TOOLS,
 * MCP_AUTH_DENY_TOOLS) and the per-group rules of the config file (`tools.groups`, see groups.ts),
 * compiled once into sets, and a pure decision function over them.
 */
import type { Identity } from '../context.ts';
import type { ToolGroups } from './groups.ts';

/** The settings the policy is compiled from (a structural subset of Config). */
export interface PolicySource {
  readonly allowTools: readonly string[];
  readonly denyTools: readonly string[];
  readonly sections: { readonly 'tools.groups': ToolGroups };
}

interface CompiledGroup {
  /** undefined means `*`: every tool. */
  readonly allow: ReadonlySet<string> | undefined;
  readonly deny: ReadonlySet<string>;
}

/** The compiled, frozen policy: build it with compilePolicy, query it with decideTool. */
export interface ToolPolicy {
  /** Global deny list; wins over everything. */
  readonly deny: ReadonlySet<string>;
  /** Global allow list; undefined means every tool (the list was empty or held `*`). */
  readonly allow: ReadonlySet<string> | undefined;
  readonly groups: ReadonlyMap<string, CompiledGroup>;
  /** Every tool name written anywhere in the policy (bounded by config, so safe as metric labels). */
  readonly named: ReadonlySet<string>;
  /** True when no rule restricts anything: every tool is allowed to everyone. */
  readonly open: boolean;
}

const allowSet = (list: readonly string[], emptyMeansAll: boolean): ReadonlySet<string> | undefined =>
  list.includes('*') || (emptyMeansAll && list.length === 0) ? undefined : new Set(list);

/** Compile the policy once, at start; decideTool then costs a few set lookups. */
export function compilePolicy(config: PolicySource): ToolPolicy {
  const groups = new Map<string, CompiledGroup>();
  const named = new Set<string>([...config.allowTools, ...config.denyTools]);
  for (const [name, g] of config.sections['tools.groups']) {
    // In a group an empty allow list allows nothing: a group rule exists to narrow or widen access,
    // and `{ deny: [x] }` alone would otherwise silently mean "everything else".
    groups.set(name, Object.freeze({ allow: allowSet(g.allow, false), deny: new Set(g.deny) }));
    for (const t of [...g.allow, ...g.deny]) named.add(t);
  }
  named.delete('*');
  const allow = allowSet(config.allowTools, true);
  return Object.freeze({ deny: new Set(config.denyTools), allow, groups, named, open: config.denyTools.length === 0 && allow === undefined && groups.size === 0 });
}

/**
 * Decide whether `identity` may call `tool`. Pure; the rules, in order:
 *
 * 1. The global deny list wins: a tool on it is denied to everyone, whatever any group says.
 * 2. Group rules: let G be the identity's groups that have a rule in `tools.groups`. When G is not
 *    empty, the tool is allowed iff some group in G allows it (its `allow` names it or holds `*`)
 *    and no group in G denies it. That is: union of G's allow lists minus union of G's deny lists.
 *    The global allow list is not consulted (a group rule replaces it, so it can widen access).
 *    A group with an empty allow list allows nothing.
 * 3. Otherwise (no identity, no groups, or no group with a rule; API keys carry no groups): the
 *    global allow list; empty or containing `*` means every tool.
 *
 * Names compare exactly (case-sensitive), as MCP servers dispatch them.
 */
export function decideTool(policy: ToolPolicy, identity: Identity | undefined, tool: string): 'allow' | 'deny' {
  if (policy.deny.has(tool)) return 'deny';
  let applies = false;
  let allowed = false;
  for (const g of identity?.groups ?? []) {
    const rule = policy.groups.get(g);
    if (rule === undefined) continue;
    applies = true;
    if (rule.deny.has(tool)) return 'deny';
    if (rule.allow === undefined || rule.allow.has(tool)) allowed = true;
  }
  if (applies) return allowed ? 'allow' : 'deny';
  return policy.allow === undefined || policy.allow.has(tool) ? 'allow' : 'deny';
}

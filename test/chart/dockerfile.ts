/**
 * A small Dockerfile reader for static checks: joins continuation lines, drops comments and parser
 * directives, splits stages at FROM, and substitutes ARGs declared before the first FROM into FROM
 * lines (Dockerfile reference: "Understand how ARG and FROM interact").
 */
export interface Instruction {
  /** Upper-cased keyword: FROM, RUN, COPY, ... */
  readonly op: string;
  /** Everything after the keyword, continuation lines joined. */
  readonly args: string;
  readonly line: number;
}
export interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

export function parseDockerfile(text: string): { globalArgs: Record<string, string>; stages: Stage[] } {
  const lines = text.split('\n');
  const instructions: Instruction[] = [];
  let buf = '';
  let start = 0;
  for (const [i, raw] of lines.entries()) {
    const trimmed = raw.trim();
    if (buf === '' && (trimmed === '' || trimmed.startsWith('#'))) continue;
    if (buf !== '' && trimmed.startsWith('#')) continue; // comments inside a continued instruction
    if (buf === '') start = i + 1;
    if (trimmed.endsWith('\\')) {
      buf += trimmed.slice(0, -1) + ' ';
      continue;
    }
    buf += trimmed;
    const m = /^(\S+)\s*(.*)$/s.exec(buf);
    if (m) instructions.push({ op: (m[1] as string).toUpperCase(), args: (m[2] as string).trim(), line: start });
    buf = '';
  }
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.op === 'FROM') {
      const parts = ins.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      const image = (parts[0] ?? '').replace(/\$\{?(\w+)\}?/g, (_, n: string) => globalArgs[n] ?? '');
      const name = parts.length >= 3 && parts[1]?.toUpperCase() === 'AS' ? parts[2] : undefined;
      stages.push({ from: image, name, instructions: [] });
    } else if (stages.length === 0) {
      if (ins.op === 'ARG') {
        const [k, v = ''] = ins.args.split('=', 2) as [string, string?];
        globalArgs[k.trim()] = v.trim().replace(/^"(.*)"$/, '$1');
      }
    } else {
      stages[stages.length - 1]?.instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}

/** Splits `--flag=value` options from the positional words of an instruction's arguments. */
export function splitFlags(args: string): { flags: Record<string, string>; words: string[] } {
  const flags: Record<string, string> = {};
  const words: string[] = [];
  for (const w of args.split(/\s+/).filter(Boolean)) {
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(w);
    if (m) flags[m[1] as string] = m[2] ?? 'true';
    else words.push(w);
  }
  return { flags, words };
}

/** LABEL k=v k2="v 2" ... -> keys. */
export function labelKeys(args: string): string[] {
  return [...args.matchAll(/([\w.-]+)=("(?:[^"\\]|\\.)*"|\S+)/g)].map((m) => m[1] as string);
}

/**
 * The house rules for a runtime image, as violations (empty when the Dockerfile complies):
 * multi-stage, a Node 24 build stage, a distroless nonroot final stage holding only
 * dist/<bundle>.mjs (and its LEGAL.txt), a numeric non-root USER, an exec-form ENTRYPOINT that runs
 * the bundle, the expected EXPOSEd ports, OCI labels, no RUN in the shell-less final stage.
 * `alsoBundles` are further bundles the image carries (built, copied), run by an explicit command.
 */
export function imageViolations(text: string, bundle: string, ports: readonly number[], alsoBundles: readonly string[] = []): string[] {
  const v: string[] = [];
  const { stages } = parseDockerfile(text);
  if (stages.length < 2) return [`multi-stage build expected, found ${stages.length} stage(s)`];
  const build = stages[0] as Stage;
  const final = stages[stages.length - 1] as Stage;
  if (!/^node:24([-.@]|$)/.test(build.from)) v.push(`build stage FROM ${build.from}: expected a node:24 image`);
  const runs = build.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
  if (!runs.some((r) => /\bnpm ci\b/.test(r))) v.push('build stage: expected RUN npm ci');
  for (const b of [bundle, ...alsoBundles]) {
    if (!runs.some((r) => new RegExp(`(npm run build|node scripts/build\\.mjs)\\b.*(\\s|^)${b}(\\s|$)|npm run build$`).test(r))) v.push(`build stage: expected the ${b} bundle to be built`);
  }
  if (!/^gcr\.io\/distroless\/nodejs24-debian\d+:nonroot(@sha256:[a-f0-9]{64})?$/.test(final.from)) v.push(`final stage FROM ${final.from}: expected gcr.io/distroless/nodejs24-debian*:nonroot`);

  const dest = `/app/dist/${bundle}.mjs`;
  for (const ins of final.instructions) {
    if (ins.op === 'RUN') v.push(`line ${ins.line}: RUN in the final stage (distroless has no shell)`);
    if (ins.op === 'ADD') v.push(`line ${ins.line}: ADD in the final stage; use COPY --from`);
    if (ins.op === 'COPY') {
      const { flags, words } = splitFlags(ins.args);
      const sources = words.slice(0, -1);
      if (flags.from === undefined) v.push(`line ${ins.line}: COPY from the build context into the runtime image`);
      for (const s of sources) {
        if (![bundle, ...alsoBundles].some((b) => new RegExp(`/dist/${b}\\.mjs(\\*|\\.LEGAL\\.txt)?$`).test(s))) v.push(`line ${ins.line}: COPY ${s}: only ${[bundle, ...alsoBundles].map((b) => `dist/${b}.mjs`).join(' and ')} may enter the runtime image`);
      }
    }
  }
  const users = final.instructions.filter((i) => i.op === 'USER');
  const user = users[users.length - 1]?.args ?? '';
  const uid = /^(\d+)(:(\d+))?$/.exec(user);
  if (!uid) v.push(`USER ${JSON.stringify(user)}: expected a numeric uid[:gid]`);
  else if (Number(uid[1]) === 0 || (uid[3] !== undefined && Number(uid[3]) === 0)) v.push(`USER ${user}: must not be root`);

  const eps = final.instructions.filter((i) => i.op === 'ENTRYPOINT');
  const ep = eps[eps.length - 1]?.args ?? '';
  let argv: unknown;
  try {
    argv = JSON.parse(ep);
  } catch {
    argv = undefined;
  }
  if (!Array.isArray(argv)) v.push(`ENTRYPOINT ${ep}: expected exec form (a JSON array)`);
  else if (argv[0] !== '/nodejs/bin/node' || argv[1] !== dest) v.push(`ENTRYPOINT ${ep}: expected ["/nodejs/bin/node", "${dest}"]`);
  if (final.instructions.some((i) => i.op === 'CMD' && !i.args.startsWith('['))) v.push('CMD in shell form');

  const exposed = final.instructions.filter((i) => i.op === 'EXPOSE').flatMap((i) => i.args.split(/\s+/)).map((p) => Number(p.replace(/\/tcp$/, '')));
  if ([...exposed].sort().join() !== [...ports].sort().join()) v.push(`EXPOSE ${exposed.join(' ')}: expected ${ports.join(' ')}`);

  const labels = new Set(final.instructions.filter((i) => i.op === 'LABEL').flatMap((i) => labelKeys(i.args)));
  for (const k of ['title', 'description', 'version', 'revision', 'created', 'source', 'licenses']) {
    if (!labels.has(`org.opencontainers.image.${k}`)) v.push(`missing LABEL org.opencontainers.image.${k}`);
  }
  return v;
}

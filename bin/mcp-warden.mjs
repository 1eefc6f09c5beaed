#!/usr/bin/env node
// The mcp-warden CLI from a checkout: Node 24 strips the TypeScript types of webhook/cli.ts.
// Installed images use the bundle (dist/cli.mjs) instead.
import { processIo, runCli } from '../webhook/cli.ts';

process.exitCode = await runCli(process.argv.slice(2), processIo);

#!/usr/bin/env node
// The mcp-warden CLI from a checkout: Node 24 strips the TypeScript types of webhook/cli.ts.
// `npm run build` also makes dist/cli.mjs, the same CLI as one file that runs with no checkout.
import { runCliProcess } from '../webhook/cli.ts';

process.exitCode = await runCliProcess(process.argv.slice(2));

/**
 * dist/cli.mjs: the command line as one file that runs on Node 24 with no checkout and no
 * node_modules (`node cli.mjs inject -f -`). The entry runs unconditionally: detecting "am I the
 * main module" with import.meta.main would do nothing, silently, on a Node.js without it.
 */
import { runCliProcess } from './cli.ts';

process.exitCode = await runCliProcess(process.argv.slice(2));

#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (built by `npm install` through the prepare script).
// runCli turns main's result into the exit code, and a main still pending when node would end into exit 70.
// restore_command's `wal get --prefetch` first tries the spool without loading the CLI (cli/fast-wal-get.ts).
const argv = process.argv;
if (argv.includes('--prefetch') && argv.includes('get')) {
  const code = await (await import('../dist/cli/fast-wal-get.js')).fastWalGet(argv.slice(2));
  if (code !== undefined) process.exit(code);
}
const { main } = await import('../dist/cli/main.js');
const { runCli } = await import('../dist/cli/run-cli.js');

runCli(argv, main);

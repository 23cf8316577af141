#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (built by `npm install` through the prepare script).
// runCli turns main's result into the exit code, and a main still pending when node would end into exit 70.
// `wal push` of a file the background pusher acknowledged (archive_command, [archive] async) ends
// before the command line is loaded (dist/cli/fast-push.js).
import { acknowledgedPush } from '../dist/cli/fast-push.js';

if (!acknowledgedPush(process.argv)) {
  const [{ main }, { runCli }] = await Promise.all([import('../dist/cli/main.js'), import('../dist/cli/run-cli.js')]);
  runCli(process.argv, main);
}

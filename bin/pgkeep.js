#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (built by `npm install` through the prepare script).
// runCli turns main's result into the exit code, and a main still pending when node would end into exit 70.
// The `pgkeep` command is bin/pgkeep, a sh front that answers the two hot cases below without
// starting node and runs this file for everything else; this file also works when called directly.
// Its two fast paths, the second line of defence (they pay node's start-up, no more), end before
// the command line is loaded: `wal push` of a file the background pusher acknowledged
// (archive_command, [archive] async; dist/cli/fast-push.js, which also refreshes the front's
// record), and restore_command's `wal get --prefetch` served from the spool (dist/cli/fast-wal-get.js).
// Each is loaded only for its own command line, so no other command pays for it at start-up.
const argv = process.argv;
const pushed = argv.includes('push') && (await import('../dist/cli/fast-push.js')).acknowledgedPush(argv);
if (!pushed) {
  if (argv.includes('--prefetch') && argv.includes('get')) {
    const code = await (await import('../dist/cli/fast-wal-get.js')).fastWalGet(argv.slice(2));
    if (code !== undefined) process.exit(code);
  }
  const [{ main }, { runCli }] = await Promise.all([import('../dist/cli/main.js'), import('../dist/cli/run-cli.js')]);
  runCli(argv, main);
}

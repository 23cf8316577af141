#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (built by `npm install` through the prepare script).
// runCli turns main's result into the exit code, and a main still pending when node would end into exit 70.
import { main } from '../dist/cli/main.js';
import { runCli } from '../dist/cli/run-cli.js';

runCli(process.argv, main);

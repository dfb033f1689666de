#!/usr/bin/env node
import { runCli } from "./main.js";

// `rrhf loss --json | head` closes the pipe early: stop quietly, as Unix tools do.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await runCli(process.argv.slice(2));

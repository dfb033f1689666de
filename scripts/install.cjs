#!/usr/bin/env node
// The `install` script of rrhf, run by `npm install` / `npm ci`.
// - In a source checkout (tsconfig.json and src/ beside package.json) it builds
//   the TypeScript, so that a clone has a working `npx rrhf` after `npm ci`. An
//   installed package ships its built JS (`prepack` builds it) and no tsconfig,
//   so nothing is compiled at the user's install.
// - Everywhere it then builds the optional OpenBLAS addon (native/build.cjs)
//   where OpenBLAS and a C compiler exist. That part never fails the install:
//   without OpenBLAS, rrhf uses its WebAssembly kernels.
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.join(__dirname, "..");
const isSourceCheckout = fs.existsSync(path.join(root, "tsconfig.json")) && fs.existsSync(path.join(root, "src"));

if (isSourceCheckout) {
  const npm = process.env.npm_execpath;
  const build = npm
    ? spawnSync(process.execPath, [npm, "run", "build"], { cwd: root, stdio: "inherit" })
    : spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit", shell: process.platform === "win32" });
  if (build.status !== 0) {
    console.error("rrhf: the TypeScript build failed (npm run build)");
    process.exit(build.status ?? 1);
  }
}

const native = spawnSync(process.execPath, [path.join(root, "native", "build.cjs")], { cwd: root, stdio: "inherit" });
if (native.status !== 0) {
  console.warn("rrhf: the optional native addon was not built; rrhf will use its WebAssembly kernels");
}

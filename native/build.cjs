#!/usr/bin/env node
// Builds the optional OpenBLAS addon with the system C compiler against Node's
// own installed headers: nothing is downloaded. It never fails the install:
// when OpenBLAS (cblas.h / -lopenblas), the headers or a compiler are missing
// it records why in build/status.json and exits 0, and rrhf uses the WASM
// backend instead. `node build.cjs --strict` exits 1 on failure (for CI).
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const here = __dirname;
const outDir = path.join(here, "build");
const addon = path.join(outDir, "rrhf_native.node");
const statusFile = path.join(outDir, "status.json");

function nodeIncludeDir() {
  const candidates = [
    process.env.npm_config_nodedir && path.join(process.env.npm_config_nodedir, "include", "node"),
    path.join(path.dirname(process.execPath), "..", "include", "node"),
    process.config.variables.node_prefix && path.join(process.config.variables.node_prefix, "include", "node"),
  ].filter(Boolean);
  return candidates.find((d) => fs.existsSync(path.join(d, "node_api.h")));
}

function writeStatus(status) {
  fs.mkdirSync(outDir, { recursive: true });
  const tmp = `${statusFile}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(status, null, 2) + "\n");
  fs.renameSync(tmp, statusFile);
}

function fail(reason) {
  try {
    fs.rmSync(addon, { force: true });
  } catch {
    /* nothing to remove */
  }
  writeStatus({ ok: false, reason });
  console.warn(`rrhf-native: not built (${reason}); rrhf will use its WASM kernels`);
  process.exit(process.argv.includes("--strict") ? 1 : 0);
}

const include = nodeIncludeDir();
if (!include) fail("Node's headers (node_api.h) were not found; set npm_config_nodedir");
const cc = process.env.CC || "cc";
const extraInclude = (process.env.OPENBLAS_INCLUDE || "").split(path.delimiter).filter(Boolean);
const includeFlags = [
  include,
  ...extraInclude,
  "/usr/include/openblas",
  "/usr/include/x86_64-linux-gnu",
  "/opt/homebrew/opt/openblas/include",
  "/usr/local/opt/openblas/include",
]
  .filter((d) => fs.existsSync(d))
  .map((d) => `-I${d}`);
const libDirs = (process.env.OPENBLAS_LIB || "")
  .split(path.delimiter)
  .filter(Boolean)
  .concat(["/opt/homebrew/opt/openblas/lib", "/usr/local/opt/openblas/lib"])
  .filter((d) => fs.existsSync(d))
  .map((d) => `-L${d}`);
const platformFlags = process.platform === "darwin" ? ["-undefined", "dynamic_lookup"] : [];

fs.mkdirSync(outDir, { recursive: true });
const tmpAddon = `${addon}.tmp-${process.pid}`;
const baseArgs = [
  "-O3",
  // sqrt of the AdamW moment is never negative: lets the compiler vectorise it.
  "-fno-math-errno",
  "-fPIC",
  // The small-M sgemm path (src/small_gemm.h) splits its columns over OpenMP threads; without it, one thread.
  ...(process.platform === "darwin" ? [] : ["-fopenmp"]),
  "-shared",
  "-std=c11",
  "-DNODE_GYP_MODULE_NAME=rrhf_native",
  ...includeFlags,
  path.join(here, "src", "rrhf_native.c"),
  "-o",
  tmpAddon,
  ...libDirs,
  "-lopenblas",
  "-lm",
  ...platformFlags,
];
const compile = (extra) => spawnSync(cc, [...baseArgs, ...extra], { encoding: "utf8" });

// The bf16 matmul (src/bf16_gemm.h, rrhf --bf16) needs oneDNN; the addon is built without it when it is absent.
const dnnl = require("./dnnl.cjs").detectDnnl(includeFlags);
let bf16 = dnnl.ok ? { ok: true } : { ok: false, reason: dnnl.reason };
let r = dnnl.ok ? compile(dnnl.flags) : null;
if (r && !r.error && r.status !== 0) {
  const log = (r.stderr || r.stdout).trim().split("\n").slice(0, 3).join(" | ");
  // --strict (CI): oneDNN is installed, so a failing bf16 build is a bug to report, not to hide.
  if (process.argv.includes("--strict")) fail(`the bf16 (oneDNN) part failed to compile: ${log}`);
  bf16 = { ok: false, reason: `the bf16 (oneDNN) part failed to compile: ${log}` };
  r = null;
}
r ??= compile([]);
if (r.error) fail(`C compiler '${cc}' could not run: ${r.error.message}`);
if (r.status !== 0) {
  fs.rmSync(tmpAddon, { force: true });
  const log = (r.stderr || r.stdout).trim();
  const missing = /cblas\.h/.test(log)
    ? "OpenBLAS headers (cblas.h) not found; install libopenblas-dev"
    : /-lopenblas|openblas/.test(log)
      ? "OpenBLAS library (-lopenblas) not found; install libopenblas-dev"
      : "compile failed";
  fail(`${missing}: ${log.split("\n").slice(0, 3).join(" | ")}`);
}
fs.renameSync(tmpAddon, addon);
writeStatus({ ok: true, compiler: cc, node: process.version, bf16 });
console.log(`rrhf-native: built ${addon}${bf16.ok ? " (with the oneDNN bf16 matmul)" : ` (without bf16: ${bf16.reason})`}`);

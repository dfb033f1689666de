"use strict";
// Loads the addon built by build.cjs, or explains why it is not there.
const fs = require("node:fs");
const path = require("node:path");

const addonPath = path.join(__dirname, "build", "rrhf_native.node");
const statusPath = path.join(__dirname, "build", "status.json");
const REBUILD = "rebuild it: npm rebuild rrhf (in a project that uses rrhf) or npm run build:native (in a clone of rrhf)";

function unavailableReason() {
  try {
    const status = JSON.parse(fs.readFileSync(statusPath, "utf8"));
    if (status && status.ok === false && typeof status.reason === "string") return `${status.reason}; then ${REBUILD}`;
  } catch {
    /* no status: never built */
  }
  return `the addon was never built; ${REBUILD}`;
}

/**
 * The addon's threads (OpenMP) wait for work asleep, not spinning, unless the
 * user chose otherwise: measured on 2 busy cores, spinning waits made a
 * 2-thread training step 2-6x slower than 1 thread (a waiting thread burns
 * the time slice the working one needs); asleep, 2 threads beat 1. libgomp
 * reads the variable once, when it is loaded with the addon, so it is set
 * only around that load and child processes do not inherit it.
 */
function requireAddon() {
  const own = process.env.OMP_WAIT_POLICY === undefined;
  if (own) process.env.OMP_WAIT_POLICY = "passive";
  try {
    return require(addonPath);
  } finally {
    if (own) delete process.env.OMP_WAIT_POLICY;
  }
}

if (fs.existsSync(addonPath)) {
  module.exports = requireAddon();
} else {
  const err = new Error(unavailableReason());
  err.code = "RRHF_NATIVE_UNAVAILABLE";
  throw err;
}

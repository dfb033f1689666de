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

if (fs.existsSync(addonPath)) {
  module.exports = require(addonPath);
} else {
  const err = new Error(unavailableReason());
  err.code = "RRHF_NATIVE_UNAVAILABLE";
  throw err;
}

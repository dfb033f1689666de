"use strict";
// Finds oneDNN for the addon's optional bf16 matmul (src/bf16_gemm.h): its header
// (dnnl.h) and library (libdnnl). Debian/Ubuntu: apt-get install libdnnl-dev.
// Elsewhere DNNL_INCLUDE / DNNL_LIB (path lists) name the folders; RRHF_DNNL=off
// builds without it.
const fs = require("node:fs");
const path = require("node:path");

const LIB_NAMES = ["libdnnl.so", "libdnnl.dylib", "libdnnl.a"];
const INSTALL_HINT = "install libdnnl-dev (Debian/Ubuntu) or set DNNL_INCLUDE and DNNL_LIB";

function paths(env) {
  return (process.env[env] || "").split(path.delimiter).filter(Boolean);
}

/**
 * { ok: true, flags } (compiler flags that define RRHF_HAVE_DNNL and link -ldnnl)
 * or { ok: false, reason }. `includeFlags` are the -I flags the addon already uses.
 */
function detectDnnl(includeFlags) {
  if (process.env.RRHF_DNNL === "off") return { ok: false, reason: "RRHF_DNNL=off" };
  const incDirs = [...paths("DNNL_INCLUDE"), ...includeFlags.map((f) => f.slice(2)), "/usr/include", "/usr/local/include"];
  const inc = incDirs.find((d) => fs.existsSync(path.join(d, "dnnl.h")));
  if (!inc) return { ok: false, reason: `oneDNN headers (dnnl.h) not found; ${INSTALL_HINT}` };
  const libDirs = [
    ...paths("DNNL_LIB"),
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/usr/local/lib",
  ];
  const lib = libDirs.find((d) => LIB_NAMES.some((n) => fs.existsSync(path.join(d, n))));
  if (!lib) return { ok: false, reason: `oneDNN library (libdnnl) not found; ${INSTALL_HINT}` };
  // A folder named by DNNL_LIB is not on the loader's path: the addon records it (rpath).
  const rpath = paths("DNNL_LIB").includes(lib) ? [`-Wl,-rpath,${lib}`] : [];
  return { ok: true, flags: ["-DRRHF_HAVE_DNNL", `-I${inc}`, `-L${lib}`, ...rpath, "-ldnnl"] };
}

module.exports = { detectDnnl };

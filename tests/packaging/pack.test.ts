/**
 * The npm package as a user gets it: `npm pack`, installed into an empty
 * project, runs `rrhf` (the built JS it ships, no build at install) and builds
 * and loads the native addon from its own folder where OpenBLAS is installed.
 */
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadNativeAddon } from "../../src/kernels/native/addon.js";
import { fixture, repoRoot, runRrhf, tempDir } from "../helpers.js";

const MODEL = fixture("models", "gpt2-tiny");
const DATA = fixture("train", "tiny-train.jsonl");

function run(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: 150_000 });
}

let packed: { tarball: string; paths: string[] } | undefined;

/** Packs the repository as it is built now (once per file); returns the tarball and the paths it holds. */
function pack(): { tarball: string; paths: string[] } {
  packed ??= packInto(tempDir("rrhf-pack-"));
  return packed;
}

function packInto(dest: string): { tarball: string; paths: string[] } {
  // --ignore-scripts: `prepack` would rebuild dist/ under the running test suite; `npm test` has just built it.
  const r = run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dest], repoRoot);
  assert.equal(r.status, 0, r.stderr);
  const [info] = JSON.parse(r.stdout) as { filename: string; files: { path: string }[] }[];
  return { tarball: join(dest, info.filename), paths: info.files.map((f) => f.path) };
}

/**
 * `npm install TARBALL` in `project`: from the npm cache alone when it holds
 * every dependency, else from the registry. `skip` says why it could not
 * run when neither has them (no network); any other failure fails the test.
 */
function install(project: string, tarball: string): { skip: string | null } {
  const common = ["install", "--no-audit", "--no-fund", tarball];
  const offline = run("npm", [...common, "--offline"], project);
  if (offline.status === 0) return { skip: null };
  assert.match(offline.stderr, /ENOTCACHED/, offline.stderr);
  const online = run("npm", [...common, "--prefer-offline"], project);
  if (online.status === 0) return { skip: null };
  if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ENETUNREACH/.test(online.stderr)) {
    return { skip: "the dependencies are neither in the npm cache nor reachable from the registry" };
  }
  assert.fail(`npm install failed:\n${online.stderr}`);
}

test("npm pack ships the built JS and the native sources, and none of the sources or build output", () => {
  const { paths } = pack();
  for (const p of [
    "package.json",
    "dist/src/cli/bin.js",
    "dist/src/index.js",
    "dist/src/index.d.ts",
    "dist/src/web/label/assets/label.html",
    "dist/src/web/label/assets/label.js",
    "dist/src/web/label/assets/label.css",
    "native/build.cjs",
    "native/index.cjs",
    "native/src/rrhf_native.c",
    "native/src/bf16_gemm.h",
    "native/dnnl.cjs",
    "scripts/install.cjs",
  ]) {
    assert.ok(paths.includes(p), `${p} is in the tarball`);
  }
  const unwanted = paths.filter((p) => /^(src|tests|dist\/tests|native\/build)\//.test(p) || p === "tsconfig.json");
  assert.deepEqual(unwanted, []);
});

test("the tarball installed into an empty project runs rrhf loss on wasm, and on native where OpenBLAS is", {
  timeout: 300_000,
}, async (t) => {
  const { tarball } = pack();
  const project = tempDir("rrhf-project-");
  writeFileSync(join(project, "package.json"), `${JSON.stringify({ name: "scratch", version: "1.0.0", private: true }, null, 2)}\n`);
  const { skip } = install(project, tarball);
  if (skip !== null) {
    t.skip(skip);
    return;
  }
  const pkg = join(project, "node_modules", "rrhf");
  assert.ok(existsSync(join(pkg, "dist", "src", "cli", "bin.js")));
  assert.ok(!existsSync(join(project, "node_modules", "rrhf-native")), "no separate (dangling) native package");
  assert.ok(!existsSync(join(pkg, "src")) && !existsSync(join(pkg, "tsconfig.json")), "nothing was compiled at install");

  const help = run("npx", ["--offline", "rrhf", "--help"], project);
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^Usage: rrhf /m);

  const lossHere = (backend: string): string => {
    const r = runRrhf(["loss", "--model", MODEL, "--data", DATA, "--backend", backend, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const lossInstalled = (backend: string): string => {
    const r = run("npx", ["--offline", "rrhf", "loss", "--model", MODEL, "--data", DATA, "--backend", backend, "--json"], project);
    assert.equal(r.status, 0, `${backend}: ${r.stderr}`);
    assert.ok(r.stdout.split("\n").length > 2);
    return r.stdout;
  };
  await t.test("--backend wasm computes what the repository does", () => {
    assert.equal(lossInstalled("wasm"), lossHere("wasm"));
  });
  const addon = loadNativeAddon();
  const noNative = addon.ok ? false : `no OpenBLAS addon on this machine (${addon.reason})`;
  await t.test("--backend native: the addon was built at install and loads from the package's folder", { skip: noNative }, () => {
    assert.ok(existsSync(join(pkg, "native", "build", "rrhf_native.node")));
    assert.equal(lossInstalled("native"), lossHere("native"));
  });
});

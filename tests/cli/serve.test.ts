/** `rrhf serve` as a user runs it: the printed URL answers; SIGTERM closes it with exit 0; off loopback it needs a key. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { readFileSync } from "node:fs";
import { SERVE_SETTINGS } from "../../src/serve/settings.js";
import { settingsMarkdownRows } from "../../src/settings/index.js";
import { fixture, repoRoot, runRrhf } from "../helpers.js";

const BIN = join(repoRoot, "dist", "src", "cli", "bin.js");

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  test(`rrhf serve prints its URL, answers there, and exits 0 on ${signal}`, async () => {
    const child = spawn(process.execPath, [BIN, "serve", "--model", fixture("models", "gpt2-tiny"), "--port", "0", "--backend", "ref"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
    const url = await new Promise<string>((found, fail) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m !== null) found(m[1]);
      });
      child.on("exit", () => fail(new Error(`rrhf serve exited before listening: ${stderr}`)));
    });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const models = (await (await fetch(`${url}/models`)).json()) as { data: { id: string }[] };
    assert.equal(models.data[0].id, "gpt2-tiny");
    child.kill(signal);
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, new RegExp(`${signal}: closing`));
  });
}

test("rrhf serve --host 0.0.0.0 without --api-key is refused (exit 1) before loading anything", () => {
  const r = runRrhf(["serve", "--model", "/no/such/dir", "--host", "0.0.0.0"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--host 0\.0\.0\.0: listening beyond this machine \(not loopback\) requires --api-key/);
});

test("the README's serve flag table is the settings' help texts", () => {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  for (const row of settingsMarkdownRows(SERVE_SETTINGS)) assert.ok(readme.includes(`${row}\n`), `README lacks the row\n${row}`);
});

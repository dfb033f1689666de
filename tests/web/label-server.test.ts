import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { request } from "node:http";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { resolveSettings, settingsMarkdownRows } from "../../src/settings/index.js";
import { isLoopbackHost, RateLimiter, tokenMatches } from "../../src/web/label/http-guard.js";
import { type LabelServer, startLabelServer } from "../../src/web/label/server.js";
import { LABEL_SETTINGS, type LabelSettings } from "../../src/web/label/settings.js";
import { repoRoot, tempDir } from "../helpers.js";
import { writeLabelFile } from "./label-helpers.js";

const TOKEN = "0123456789abcdef-secret";

function settings(over: Partial<LabelSettings> = {}): LabelSettings {
  return { ...resolveSettings(LABEL_SETTINGS, { port: 0 }, "flags"), ...over };
}

interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One raw HTTP request (node:http, so the Host header and path go exactly as written). */
function call(port: number, method: string, path: string, opts: { headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers: opts.headers }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => {
        body += d.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

const json = { "Content-Type": "application/json" };

describe("label server without a token (loopback)", () => {
  let server: LabelServer;
  let file: string;
  before(async () => {
    file = join(tempDir(), "d.jsonl");
    writeLabelFile(file, 3, 3);
    server = await startLabelServer(file, settings({ policy_scores: "policy" }));
  });
  after(() => server.close());

  it("serves the page with a strict Content-Security-Policy, and the state", async () => {
    const page = await call(server.port, "GET", "/");
    assert.equal(page.status, 200);
    assert.match(page.body, /Rank the responses/);
    assert.match(String(page.headers["content-security-policy"]), /default-src 'none'; script-src 'sha256-/);
    const state = await call(server.port, "GET", "/api/state");
    assert.deepEqual(JSON.parse(state.body), { file: "d.jsonl", total: 3, labelled: 0, first: 0 });
    const item = JSON.parse((await call(server.port, "GET", "/api/items/2")).body) as Record<string, unknown>;
    assert.deepEqual(item.responses, ["q2 r0", "q2 r1", "q2 r2"]);
    assert.deepEqual(item.policyScores, [0, 0.1, 0.2]);
    assert.equal(item.hasLabel, false);
  });

  it("saves a ranking into FILE before answering, and clears it", async () => {
    const put = await call(server.port, "PUT", "/api/items/0/label", {
      headers: json,
      body: JSON.stringify({ order: [1, 2, 0], ties: [false, false, false] }),
    });
    assert.equal(put.status, 200, put.body);
    assert.deepEqual(JSON.parse(put.body), { file: "d.jsonl", total: 3, labelled: 1, first: 1 });
    assert.deepEqual(JSON.parse(readFileSync(file, "utf8").split("\n")[0]).scores, [0, 2, 1]);
    const del = await call(server.port, "DELETE", "/api/items/0/label");
    assert.equal(JSON.parse(del.body).labelled, 0);
    assert.deepEqual(JSON.parse(readFileSync(file, "utf8").split("\n")[0]).scores, [0, 0, 0]);
  });

  it("refuses bad rankings, bodies, methods and paths", async () => {
    const bad = await call(server.port, "PUT", "/api/items/0/label", {
      headers: json,
      body: JSON.stringify({ order: [0, 0, 1], ties: [false, false, false] }),
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body, /each response index/);
    assert.equal((await call(server.port, "PUT", "/api/items/0/label", { headers: json, body: "{" })).status, 400);
    assert.equal((await call(server.port, "PUT", "/api/items/0/label", { body: "{}" })).status, 415);
    const huge = JSON.stringify({ order: [0, 1, 2], ties: [false, false, false], pad: "x".repeat(70_000) });
    assert.equal((await call(server.port, "PUT", "/api/items/0/label", { headers: json, body: huge })).status, 413);
    assert.equal((await call(server.port, "POST", "/api/state")).status, 405);
    assert.equal((await call(server.port, "GET", "/api/items/3")).status, 404);
    assert.equal((await call(server.port, "GET", "/api/items/99999999999")).status, 404);
    for (const path of [
      "/../../../etc/passwd",
      "/d.jsonl",
      "/d.jsonl.labels.json",
      "/assets/label.js",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/api/items/0/../../../etc/passwd",
    ]) {
      const reply = await call(server.port, "GET", path);
      assert.equal(reply.status, 404, path);
      assert.doesNotMatch(reply.body, /root:|q0 r0/, path);
    }
    // Fuzz finding: "//?" reads as a URL with an empty host and made the server answer 500.
    const unparsable = await call(server.port, "PUT", "//?", { headers: json, body: "{}" });
    assert.equal(unparsable.status, 400);
    assert.match(unparsable.body, /not a valid URL path/);
    assert.equal(JSON.parse(readFileSync(`${file}.labels.json`, "utf8")).labels["0"], undefined, "nothing refused was saved");
  });

  it("answers only to loopback Host names, and refuses cross-origin writes", async () => {
    const rebound = await call(server.port, "GET", "/api/state", { headers: { Host: `evil.example:${server.port}` } });
    assert.equal(rebound.status, 403);
    const cross = await call(server.port, "PUT", "/api/items/0/label", {
      headers: { ...json, Origin: "http://evil.example" },
      body: JSON.stringify({ order: [0, 1, 2], ties: [false, false, false] }),
    });
    assert.equal(cross.status, 403);
  });
});

describe("label server with a token", () => {
  let server: LabelServer;
  before(async () => {
    const file = join(tempDir(), "d.jsonl");
    writeLabelFile(file, 2, 2);
    server = await startLabelServer(file, settings({ token: TOKEN }));
  });
  after(() => server.close());

  it("answers 401 to every request without the right token", async () => {
    assert.match(server.url, /\?token=0123456789abcdef-secret$/);
    for (const path of ["/", "/api/state", "/api/items/0", "/nowhere"]) {
      assert.equal((await call(server.port, "GET", path)).status, 401, path);
      assert.equal((await call(server.port, "GET", `${path}?token=wrong`)).status, 401, path);
      assert.equal((await call(server.port, "GET", path, { headers: { Authorization: `Bearer ${TOKEN}x` } })).status, 401, path);
    }
    const put = await call(server.port, "PUT", "/api/items/0/label", {
      headers: json,
      body: JSON.stringify({ order: [1, 0], ties: [false, false] }),
    });
    assert.equal(put.status, 401);
    assert.equal(server.store.labelledCount, 0);
  });

  it("serves requests that carry it, as ?token= or a Bearer header", async () => {
    assert.equal((await call(server.port, "GET", `/?token=${TOKEN}`)).status, 200);
    const put = await call(server.port, "PUT", "/api/items/0/label", {
      headers: { ...json, Authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ order: [1, 0], ties: [false, false] }),
    });
    assert.equal(put.status, 200);
    assert.equal(server.store.labelledCount, 1);
  });
});

describe("label server settings and guards", () => {
  it("allows one server per file; a lock or temp file left by a killed one is cleaned up", async () => {
    const dir = tempDir();
    const file = join(dir, "d.jsonl");
    writeLabelFile(file, 1, 2);
    const first = await startLabelServer(file, settings());
    await assert.rejects(
      startLabelServer(file, settings()),
      new RegExp(`d\\.jsonl is being labelled by process ${process.pid} \\(rrhf label\\); stop it first`),
    );
    await first.close();
    assert.equal(existsSync(`${file}.labels.lock`), false, "closing releases the lock");
    const gone = spawnSync(process.execPath, ["-e", ""]).pid;
    writeFileSync(`${file}.labels.lock`, `${gone}\n`);
    writeFileSync(join(dir, `.d.jsonl.tmp-${gone}-0a1b2c3d`), "half a file");
    writeFileSync(join(dir, `.d.jsonl.labels.json.tmp-${gone}-0a1b2c3d`), "half a file");
    writeFileSync(join(dir, `.d.jsonl.tmp-${process.pid}-0a1b2c3d`), "a live writer's");
    const second = await startLabelServer(file, settings());
    await second.close();
    assert.deepEqual(readdirSync(dir).sort(), [`.d.jsonl.tmp-${process.pid}-0a1b2c3d`, "d.jsonl"]);
    await assert.rejects(startLabelServer(join(dir, "none.jsonl"), settings()), /none\.jsonl: no such file/);
  });

  it("refuses another host without a token, and a short token", async () => {
    const file = join(tempDir(), "d.jsonl");
    writeLabelFile(file, 1, 2);
    await assert.rejects(
      startLabelServer(file, settings({ host: "0.0.0.0" })),
      /binding 0\.0\.0\.0 lets other machines reach the page: give --token/,
    );
    await assert.rejects(startLabelServer(file, settings({ token: "short" })), /--token must be at least 16 characters/);
  });

  it("compares tokens exactly, limits the request rate, and knows loopback", () => {
    assert.equal(tokenMatches(TOKEN, TOKEN), true);
    assert.equal(tokenMatches(TOKEN.slice(0, -1), TOKEN), false);
    assert.equal(tokenMatches("", TOKEN), false);
    const limiter = new RateLimiter(2);
    assert.deepEqual(
      [limiter.allow("a", 0), limiter.allow("a", 10), limiter.allow("a", 20), limiter.allow("b", 20)],
      [true, true, false, true],
    );
    assert.equal(limiter.allow("a", 1500), true, "a new second starts afresh");
    assert.deepEqual(["127.0.0.1", "::1", "localhost", "0.0.0.0", "192.168.1.2"].map(isLoopbackHost), [true, true, true, false, false]);
  });
});

it("the README's rrhf label table is the settings table", () => {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  for (const row of settingsMarkdownRows(LABEL_SETTINGS)) assert.ok(readme.includes(`${row}\n`), `README lacks the row\n${row}`);
});

/**
 * `rrhf sample --endpoint` against `rrhf serve` (in-process) and against
 * tiny fake servers (503 twice then 200: retried; 400: a clear error), and
 * `--model` repeated (pooled answers, k per model, in model order).
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { startServer } from "../../src/serve/server.js";
import { fixture, runRrhfInProcess as rrhf, tempDir } from "../helpers.js";

const MODEL = fixture("models", "gpt2-tiny");
const PROMPTS = fixture("train", "tiny-train.jsonl");

interface OutLine {
  query: string;
  responses: string[];
}

function readOut(file: string): OutLine[] {
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as OutLine);
}

/** A fake OpenAI server answering each request with `reply(request number, headers)`; returns its base URL and a close function. */
async function fakeServer(
  reply: (
    count: number,
    req: IncomingMessage,
    body: Record<string, unknown>,
  ) => { status: number; body: object; headers?: Record<string, string> },
): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let count = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = "";
    req.on("data", (d: Buffer) => {
      text += d.toString();
    });
    req.on("end", () => {
      const r = reply(++count, req, JSON.parse(text) as Record<string, unknown>);
      res.writeHead(r.status, { "content-type": "application/json", ...r.headers });
      res.end(JSON.stringify(r.body));
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests: () => count,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

function onePrompt(): string {
  const file = join(tempDir(), "prompts.jsonl");
  writeFileSync(file, `${JSON.stringify({ query: "Hi" })}\n`);
  return file;
}

const completion = (n: number) => ({
  choices: Array.from({ length: n }, (_, i) => ({ index: i, text: ` answer ${i}`, finish_reason: "stop" })),
  usage: { completion_tokens: 3 * n },
});

test("sample --endpoint against rrhf serve: greedy equals local sampling line for line; -k maps to n; a rerun resumes", async () => {
  const server = await startServer({ model: MODEL, settings: { port: 0, backend: "ref", api_key: "k3y" }, log: () => {} });
  try {
    const dir = tempDir();
    const local = join(dir, "local.jsonl");
    const remote = join(dir, "remote.jsonl");
    const common = ["--prompts", PROMPTS, "--strategy", "greedy", "--max-new-tokens", "10"];
    assert.equal((await rrhf(["sample", "--model", MODEL, "--backend", "ref", ...common, "--out", local])).code, 0);
    const endpoint = ["--endpoint", `${server.url}/v1`, "--endpoint-model", "gpt2-tiny", "--api-key-env", "RRHF_TEST_SERVE_KEY"];
    process.env.RRHF_TEST_SERVE_KEY = "k3y";
    const r = await rrhf(["sample", ...endpoint, ...common, "--concurrency", "3", "--out", remote]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readOut(remote), readOut(local));

    const sampled = join(dir, "sampled.jsonl");
    const k3 = ["sample", ...endpoint, "--prompts", PROMPTS, "-k", "3", "--max-new-tokens", "6", "--seed", "4", "--out", sampled];
    assert.equal((await rrhf(k3)).code, 0);
    const full = readOut(sampled);
    assert.ok(full.every((l) => l.responses.length === 3));
    // Keep 3 complete lines and half of the fourth: the rerun rewrites the rest as the uninterrupted run did.
    const text = readFileSync(sampled, "utf8").split("\n");
    writeFileSync(sampled, `${text.slice(0, 3).join("\n")}\n${text[3].slice(0, 10)}`);
    const resumed = await rrhf(k3);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /holds 3 prompts already/);
    assert.deepEqual(readOut(sampled), full);

    process.env.RRHF_TEST_SERVE_KEY = "wrong";
    const refused = await rrhf(["sample", ...endpoint, ...common, "--out", join(dir, "refused.jsonl")]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /HTTP 401: invalid or missing API key/);
  } finally {
    delete process.env.RRHF_TEST_SERVE_KEY;
    await server.close();
  }
});

test("sample --endpoint retries 503 twice (honouring Retry-After), then writes the 200's choices", async () => {
  const fake = await fakeServer((count, _req, body) =>
    count <= 2
      ? { status: 503, body: { error: { message: "warming up" } }, headers: { "retry-after": "0" } }
      : { status: 200, body: completion(body.n as number) },
  );
  try {
    const out = join(tempDir(), "out.jsonl");
    const r = await rrhf(["sample", "--endpoint", fake.url, "--endpoint-model", "m", "--prompts", onePrompt(), "-k", "2", "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fake.requests(), 3);
    assert.deepEqual(readOut(out), [{ query: "Hi", responses: [" answer 0", " answer 1"] }]);
  } finally {
    await fake.close();
  }
});

test("sample --endpoint: a 400 is a clear error with the server's message (no retry); endless 503s give up after the attempts", async () => {
  const bad = await fakeServer(() => ({ status: 400, body: { error: { message: "temperature too hot", type: "invalid_request_error" } } }));
  const busy = await fakeServer(() => ({ status: 503, body: { error: { message: "overloaded" } }, headers: { "retry-after": "0" } }));
  try {
    const out = join(tempDir(), "out.jsonl");
    const r = await rrhf(["sample", "--endpoint", bad.url, "--endpoint-model", "m", "--prompts", onePrompt(), "--out", out]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\/v1\/completions: HTTP 400: temperature too hot/);
    assert.equal(bad.requests(), 1);
    const gaveUp = await rrhf([
      "sample",
      "--endpoint",
      busy.url,
      "--endpoint-model",
      "m",
      "--endpoint-max-attempts",
      "3",
      "--prompts",
      onePrompt(),
      "--out",
      out,
    ]);
    assert.equal(gaveUp.code, 1);
    assert.match(gaveUp.stderr, /gave up after 3 attempts; last: HTTP 503: overloaded/);
    assert.equal(busy.requests(), 3);
  } finally {
    await bad.close();
    await busy.close();
  }
});

test("sample --endpoint refuses beam search, a missing --endpoint-model, an unset key variable, and --model beside it", async () => {
  const out = join(tempDir(), "out.jsonl");
  const base = ["sample", "--endpoint", "http://127.0.0.1:9/v1", "--prompts", onePrompt(), "--out", out];
  const cases: [string[], RegExp][] = [
    [["--endpoint-model", "m", "--strategy", "beam"], /--strategy beam is not available through an OpenAI-compatible endpoint/],
    [["--endpoint-model", "m", "--strategy", "diverse-beam", "--num-beam-groups", "2"], /--strategy diverse-beam is not available/],
    [[], /--endpoint needs --endpoint-model NAME/],
    [["--endpoint-model", "m", "--api-key-env", "RRHF_TEST_NO_SUCH_VAR"], /RRHF_TEST_NO_SUCH_VAR: that environment variable is not set/],
    [["--endpoint-model", "m", "--model", MODEL], /--endpoint and --model exclude each other/],
  ];
  for (const [args, message] of cases) {
    const r = await rrhf([...base, ...args]);
    assert.equal(r.code, 1, args.join(" "));
    assert.match(r.stderr, message);
  }
  const none = await rrhf(["sample", "--prompts", onePrompt(), "--out", out]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /needs --model DIR/);
});

test("sample --model repeated pools the models' answers: k each, in model order", async () => {
  const dir = tempDir();
  const llama = fixture("models", "llama-tiny");
  const run = async (models: string[], name: string): Promise<OutLine[]> => {
    const out = join(dir, name);
    const args = ["sample", ...models.flatMap((m) => ["--model", m]), "--tokenizer", MODEL, "--prompts", PROMPTS];
    const r = await rrhf([...args, "--backend", "ref", "--strategy", "greedy", "--max-new-tokens", "6", "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    return readOut(out);
  };
  const gpt2 = await run([MODEL], "gpt2.jsonl");
  const llamaOnly = await run([llama], "llama.jsonl");
  const pooled = await run([MODEL, llama], "pooled.jsonl");
  assert.deepEqual(
    pooled.map((l) => l.responses),
    gpt2.map((l, i) => [...l.responses, ...llamaOnly[i].responses]),
  );
  assert.notDeepEqual(
    gpt2.map((l) => l.responses),
    llamaOnly.map((l) => l.responses),
  );
});

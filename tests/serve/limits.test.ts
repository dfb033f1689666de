/**
 * `rrhf serve`'s protections: the API key (401), loopback unless a key is
 * set, the bounded queue (429), the body limit (413), bad requests (400,
 * with OpenAI's error body), routes (404, 405).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import OpenAI from "openai";
import { UserError } from "../../src/errors.js";
import { GenerationQueue } from "../../src/serve/queue.js";
import { ApiError } from "../../src/serve/request.js";
import { checkServeSecurity, isLoopbackHost, startServer } from "../../src/serve/server.js";
import { errorOf, post, serve } from "./helpers.js";

test("with --api-key: no key or a wrong one is a 401; the right one is served", async () => {
  const server = await serve({ api_key: "s3cret" });
  try {
    const wrong = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "s3cres", maxRetries: 0 });
    await assert.rejects(
      wrong.models.list(),
      (err: unknown) => err instanceof OpenAI.AuthenticationError && err.code === "invalid_api_key",
    );
    const none = await fetch(`${server.url}/v1/models`);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get("www-authenticate"), "Bearer");
    const missing = await post(`${server.url}/v1/completions`, { model: "gpt2-tiny", prompt: "Hi" });
    assert.equal(missing.status, 401);
    const right = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "s3cret", maxRetries: 0 });
    assert.equal((await right.completions.create({ model: "gpt2-tiny", prompt: "Hi", max_tokens: 2 })).choices.length, 1);
  } finally {
    await server.close();
  }
});

test("any host but loopback needs an API key, refused before the model is loaded", async () => {
  for (const host of ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]", "::ffff:127.0.0.1"]) assert.ok(isLoopbackHost(host), host);
  for (const host of ["0.0.0.0", "::", "192.168.1.4", "example.com", "127.0.0.1.nip.io"]) assert.ok(!isLoopbackHost(host), host);
  assert.throws(() => checkServeSecurity({ host: "0.0.0.0", api_key: null }), /requires --api-key/);
  assert.throws(() => checkServeSecurity({ host: "127.0.0.1", api_key: "" }), /must not be empty/);
  checkServeSecurity({ host: "0.0.0.0", api_key: "k" });
  await assert.rejects(
    startServer({ model: "/no/such/model", settings: { host: "0.0.0.0", port: 0 } }),
    (err: unknown) => err instanceof UserError && /requires --api-key/.test(err.message),
  );
});

test("the queue runs one task at a time, lets `capacity` wait, refuses the next with 429 and the waiting ones with 503 on close", async () => {
  const queue = new GenerationQueue(1);
  let release = (): void => {};
  const order: string[] = [];
  const first = queue.run(
    () =>
      new Promise<void>((done) => {
        order.push("first");
        release = done;
      }),
  );
  const second = queue.run(async () => {
    order.push("second");
  });
  await assert.rejects(
    queue.run(async () => {}),
    (err: unknown) => err instanceof ApiError && err.status === 429,
  );
  assert.deepEqual(order, ["first"]);
  release();
  await Promise.all([first, second]);
  assert.deepEqual(order, ["first", "second"]);

  const blocking = queue.run(() => new Promise<void>((done) => setTimeout(done, 20)));
  const waiting = queue.run(async () => {});
  queue.close();
  await assert.rejects(waiting, (err: unknown) => err instanceof ApiError && err.status === 503);
  await blocking;
  await assert.rejects(
    queue.run(async () => {}),
    (err: unknown) => err instanceof ApiError && err.status === 503,
  );
});

test("a full queue answers 429 with Retry-After while a generation runs", async () => {
  const server = await serve({ queue_size: 0, max_n: 16 });
  try {
    const body = { model: "gpt2-tiny", prompt: "Hello", n: 16, max_tokens: 50 };
    const answers = await Promise.all(
      Array.from({ length: 4 }, () =>
        fetch(`${server.url}/v1/completions`, { method: "POST", body: JSON.stringify(body) }).then(async (r) => ({
          status: r.status,
          retryAfter: r.headers.get("retry-after"),
          json: (await r.json()) as Record<string, unknown>,
        })),
      ),
    );
    const statuses = answers.map((a) => a.status).sort();
    assert.equal(statuses[0], 200, JSON.stringify(statuses));
    assert.equal(statuses.at(-1), 429, JSON.stringify(statuses));
    const refused = answers.find((a) => a.status === 429);
    assert.equal(refused?.retryAfter, "1");
    assert.equal(errorOf(refused?.json ?? {}).type, "rate_limit_exceeded");
  } finally {
    await server.close();
  }
});

test("a body over max_body_bytes is a 413, declared or not", async () => {
  const server = await serve({ max_body_bytes: 2048 });
  try {
    const big = JSON.stringify({ model: "gpt2-tiny", prompt: "x".repeat(1_000_000) });
    const declared = await post(`${server.url}/v1/completions`, big);
    assert.equal(declared.status, 413);
    assert.equal(errorOf(declared.json).code, "request_too_large");
    // Chunked (no content-length): the limit is counted as the bytes come.
    const chunks = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 8; i++) c.enqueue(new TextEncoder().encode("x".repeat(1024)));
        c.close();
      },
    });
    const streamed = await fetch(`${server.url}/v1/completions`, { method: "POST", body: chunks, duplex: "half" } as RequestInit);
    assert.equal(streamed.status, 413);
  } finally {
    await server.close();
  }
});

test("bad requests are 400s with OpenAI's error body naming the field; wrong routes 404 and methods 405", async () => {
  const server = await serve({ max_n: 4 });
  const url = `${server.url}/v1/completions`;
  try {
    const malformed = await post(url, "{not json");
    assert.equal(malformed.status, 400);
    assert.deepEqual(Object.keys(errorOf(malformed.json)).sort(), ["code", "message", "param", "type"]);
    assert.equal(errorOf(malformed.json).code, "invalid_json");
    const cases: [Record<string, unknown>, string][] = [
      [{ model: "gpt2-tiny", prompt: "Hi", n: 5 }, "n"],
      [{ model: "gpt2-tiny", prompt: "Hi", temperature: "hot" }, "temperature"],
      [{ model: "gpt2-tiny", prompt: "Hi", stop: ["a", "b", "c", "d", "e"] }, "stop"],
      [{ model: "gpt2-tiny", prompt: 42 }, "prompt"],
      [{ model: "gpt2-tiny", prompt: [1, 2, 999] }, "prompt"],
      [{ model: "gpt2-tiny", prompt: "Hi", logprobs: 3 }, "logprobs"],
      [{ prompt: "Hi" }, "model"],
    ];
    for (const [body, param] of cases) {
      const r = await post(url, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(errorOf(r.json).param, param, JSON.stringify(r.json));
      assert.equal(errorOf(r.json).type, "invalid_request_error");
    }
    const chat = await post(`${server.url}/v1/chat/completions`, { model: "gpt2-tiny", messages: [{ role: "robot", content: "x" }] });
    assert.equal(errorOf(chat.json).param, "messages[0].role");
    assert.equal((await fetch(`${server.url}/v1/embeddings`)).status, 404);
    assert.equal((await fetch(url)).status, 405);
  } finally {
    await server.close();
  }
});

test("close() while a streamed generation runs: the stream ends without [DONE], the server stops listening", async () => {
  const server = await serve({ max_n: 16 });
  const res = await fetch(`${server.url}/v1/completions`, {
    method: "POST",
    body: JSON.stringify({ model: "gpt2-tiny", prompt: "Hello", n: 16, max_tokens: 55, stream: true }),
  });
  assert.equal(res.status, 200);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const first = await reader.read();
  assert.match(new TextDecoder().decode(first.value), /^data: \{/);
  await server.close();
  let rest = "";
  for (;;) {
    const next = await reader.read().catch(() => ({ done: true, value: undefined }));
    if (next.done === true) break;
    rest += new TextDecoder().decode(next.value);
  }
  assert.ok(!rest.includes("[DONE]"), "an aborted stream does not claim to be complete");
  await assert.rejects(fetch(`${server.url}/v1/models`));
});

test("more than max_requests_per_second requests from one client in a second get 429 with Retry-After", async () => {
  const server = await serve({ max_requests_per_second: 3 });
  try {
    const statuses: number[] = [];
    let refused: Response | null = null;
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${server.url}/v1/models`);
      statuses.push(res.status);
      if (res.status === 429) refused = res;
      else await res.arrayBuffer();
    }
    // A second boundary may fall between the five requests: then the count starts again, and at least one is still refused.
    assert.deepEqual(statuses.slice(0, 3), [200, 200, 200]);
    assert.ok(statuses.includes(429), JSON.stringify(statuses));
    assert.ok(refused !== null);
    assert.equal(refused.headers.get("retry-after"), "1");
    assert.match(((await refused.json()) as { error: { message: string } }).error.message, /at most 3 a second/);
  } finally {
    await server.close();
  }
});

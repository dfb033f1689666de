/**
 * `rrhf serve` driven by the official `openai` npm client: completions and
 * chat, streamed and not, n > 1, stop strings, seeds, usage counts.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import OpenAI from "openai";
import type { RunningServer } from "../../src/serve/server.js";
import { serve, templatedModel } from "./helpers.js";

let server: RunningServer;
let client: OpenAI;

before(async () => {
  server = await serve({}, templatedModel());
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
});
after(() => server.close());

test("GET /v1/models lists the served model under its folder's name", async () => {
  const models = await client.models.list();
  assert.deepEqual(
    models.data.map((m) => m.id),
    [server.modelName],
  );
  assert.match(server.modelName, /^rrhf-serve-chat-/);
});

test("completions: n choices, each max_tokens long, and usage counts prompt and every choice's tokens", async () => {
  const r = await client.completions.create({ model: server.modelName, prompt: "Hello", n: 3, max_tokens: 5, seed: 7 });
  assert.equal(r.object, "text_completion");
  assert.deepEqual(
    r.choices.map((c) => c.index),
    [0, 1, 2],
  );
  for (const c of r.choices) {
    // The gpt2-tiny tokenizer has one token per character; EOS (id 0) ends a choice early with finish_reason "stop".
    if (c.finish_reason === "length") assert.equal(c.text.length, 5);
    else assert.ok(c.text.length < 5);
  }
  const generated = r.choices.reduce((sum, c) => sum + (c.finish_reason === "length" ? 5 : c.text.length + 1), 0);
  assert.deepEqual(r.usage, { prompt_tokens: 5, completion_tokens: generated, total_tokens: 5 + generated });
});

test("the same seed gives the same choices; other seeds give others", async () => {
  const ask = (seed: number) => client.completions.create({ model: server.modelName, prompt: "Hello", n: 2, max_tokens: 12, seed });
  const texts = async (seed: number) => (await ask(seed)).choices.map((c) => c.text);
  const first = await texts(11);
  assert.deepEqual(await texts(11), first);
  const others = [await texts(12), await texts(13)];
  assert.ok(
    others.some((o) => JSON.stringify(o) !== JSON.stringify(first)),
    "three seeds, one output",
  );
});

test("streamed completions: the chunks add up to the non-streamed text, then finish_reason, usage and [DONE]", async () => {
  const params = { model: server.modelName, prompt: "Hello", n: 2, max_tokens: 10, seed: 5 } as const;
  const whole = await client.completions.create(params);
  const stream = await client.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
  const texts = ["", ""];
  const finish: (string | null)[] = [null, null];
  let usage: OpenAI.CompletionUsage | undefined;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    for (const c of chunk.choices) {
      texts[c.index] += c.text;
      if (c.finish_reason !== null) finish[c.index] = c.finish_reason;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  assert.deepEqual(
    texts,
    whole.choices.map((c) => c.text),
  );
  assert.deepEqual(
    finish,
    whole.choices.map((c) => c.finish_reason),
  );
  assert.deepEqual(usage, whole.usage);
  assert.ok(chunks > 4, `text comes token by token (${chunks} chunks)`);
});

test("temperature 0 is greedy: every choice is the same argmax chain", async () => {
  const r = await client.completions.create({ model: server.modelName, prompt: "Hello", n: 2, max_tokens: 8, temperature: 0 });
  assert.equal(r.choices[0].text, r.choices[1].text);
  const again = await client.completions.create({ model: server.modelName, prompt: "Hello", max_tokens: 8, temperature: 0, seed: 99 });
  assert.equal(again.choices[0].text, r.choices[0].text);
});

test("stop: the text ends before the first stop string, finish_reason stop, streamed or not", async () => {
  const base = { model: server.modelName, prompt: "Hello", max_tokens: 20, temperature: 0 } as const;
  const free = (await client.completions.create(base)).choices[0].text;
  assert.ok(free.length >= 6, `greedy output long enough to cut: ${JSON.stringify(free)}`);
  const stop = free.slice(4, 6);
  const expected = free.slice(0, free.indexOf(stop));
  const cut = await client.completions.create({ ...base, stop: [stop] });
  assert.equal(cut.choices[0].text, expected);
  assert.equal(cut.choices[0].finish_reason, "stop");
  let streamed = "";
  for await (const chunk of await client.completions.create({ ...base, stop, stream: true })) streamed += chunk.choices[0]?.text ?? "";
  assert.equal(streamed, expected);
});

test("chat: the conversation goes through the chat template; streamed deltas add up to the message", async () => {
  const params = { model: server.modelName, messages: [{ role: "user" as const, content: "Hi there" }], max_tokens: 6, seed: 3 };
  const r = await client.chat.completions.create(params);
  assert.equal(r.object, "chat.completion");
  assert.equal(r.choices[0].message.role, "assistant");
  // "u: Hi there\na:" is 14 characters, one token each.
  assert.equal(r.usage?.prompt_tokens, 14);
  const stream = await client.chat.completions.create({ ...params, stream: true });
  let content = "";
  let role: string | undefined;
  let finish: string | null = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, "chat.completion.chunk");
    const c = chunk.choices[0];
    role ??= c.delta.role;
    content += c.delta.content ?? "";
    finish = c.finish_reason ?? finish;
  }
  assert.equal(role, "assistant");
  assert.equal(content, r.choices[0].message.content);
  assert.equal(finish, r.choices[0].finish_reason);
});

test("a request beyond the model's context is a 400 naming max_tokens", async () => {
  await assert.rejects(
    client.completions.create({ model: server.modelName, prompt: "Hello", max_tokens: 500 }),
    (err: unknown) => err instanceof OpenAI.BadRequestError && err.param === "max_tokens" && err.code === "context_length_exceeded",
  );
});

test("an unknown model is a 404 naming the served one", async () => {
  await assert.rejects(
    client.completions.create({ model: "gpt-4", prompt: "Hello" }),
    (err: unknown) => err instanceof OpenAI.NotFoundError && err.message.includes(server.modelName),
  );
});

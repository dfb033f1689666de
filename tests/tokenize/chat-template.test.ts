import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { hhToMessages, queryToMessages, renderChatQuery } from "../../src/tokenize/chat-template.js";
import { encodeRecord } from "../../src/tokenize/encode.js";
import { GPT2_DIR, L, LLAMA_DIR, gpt2, llama, readJson, withConfig } from "./tokenizers.js";

const HH = "\n\nHuman: Hi there\n\nAssistant: Hello!\n\nHuman: How are you?\n\nAssistant:";

/** A small template in the usual shape: BOS, one tag per role, EOS after each turn. */
const TAGGED =
  "{{ bos_token }}{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{{ eos_token }}{% endfor %}" +
  "{% if add_generation_prompt %}<|assistant|>{% endif %}";
/** The same without the BOS: the tokenizer must add it. */
const TAGGED_NO_BOS = TAGGED.slice("{{ bos_token }}".length);

test("an HH transcript becomes alternating user/assistant messages without the final empty turn", () => {
  assert.deepEqual(hhToMessages(HH), [
    { role: "user", content: "Hi there" },
    { role: "assistant", content: "Hello!" },
    { role: "user", content: "How are you?" },
  ]);
  assert.deepEqual(queryToMessages("Human: Hi\n\nAssistant:"), [{ role: "user", content: "Hi" }]);
  assert.deepEqual(queryToMessages("Note\n\nHuman: Hi\n\nAssistant:"), [
    { role: "system", content: "Note" },
    { role: "user", content: "Hi" },
  ]);
  assert.deepEqual(queryToMessages("  Write a haiku.\n"), [{ role: "user", content: "Write a haiku." }]);
});

test("renderChatQuery renders the messages with the generation prompt", async () => {
  const tok = await gpt2();
  const tpl = "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}";
  const r = renderChatQuery(tok, HH, tpl);
  assert.equal(r.text, "user: Hi there\nassistant: Hello!\nuser: How are you?\nassistant:");
  assert.equal(r.hasBos, false);
});

test("the tokenizer_config.json chat_template is used with chatTemplate: true; missing → UserError", async () => {
  const config = {
    ...readJson(join(GPT2_DIR, "tokenizer_config.json")),
    chat_template: "{% for m in messages %}[{{ m.content }}]{% endfor %}",
  };
  const tok = withConfig(GPT2_DIR, config);
  const e = encodeRecord(tok, { query: "Hello", responses: [" world"], scores: [0] }, { chatTemplate: true });
  assert.deepEqual(e.query_ids, tok.encode("[Hello]"));
  assert.equal(tok.decode(e.query_ids), "[Hello]");
  const plain = await gpt2();
  assert.throws(
    () => encodeRecord(plain, { query: "Hello", responses: [" world"], scores: [0] }, { chatTemplate: true }),
    /has no chat_template/,
  );
  assert.throws(() => renderChatQuery(tok, "Hello", "{% if %}"), /chat_template: cannot parse/);
});

test("named chat templates: the 'default' one is picked", () => {
  const config = {
    eos_token: "<|endoftext|>",
    chat_template: [
      { name: "tool_use", template: "T" },
      { name: "default", template: "D" },
    ],
  };
  assert.equal(withConfig(GPT2_DIR, config).chatTemplate, "D");
});

test("no double BOS: a template that writes the BOS is encoded without special tokens", async () => {
  const tok = await llama();
  const rec = { query: "\n\nHuman: Hello\n\nAssistant:", responses: ["world"], scores: [0] };
  const withBos = encodeRecord(tok, rec, { chatTemplate: TAGGED });
  const withoutBos = encodeRecord(tok, rec, { chatTemplate: TAGGED_NO_BOS });
  for (const e of [withBos, withoutBos]) {
    assert.equal(e.query_ids[0], L.bos);
    assert.equal(e.query_ids.filter((id) => id === L.bos).length, 1);
    assert.ok(e.query_ids.includes(L.eos)); // the EOS the template wrote after the user turn is a real EOS token
    assert.deepEqual(e.responses[0].response_ids, [L._world, L.eos]);
  }
  // Rendered: "<s><|user|>Hello</s><|assistant|>" — the template's "<s>" text became the BOS id.
  assert.equal(renderChatQuery(tok, rec.query, TAGGED).text, "<s><|user|>Hello</s><|assistant|>");
  assert.deepEqual(withBos.query_ids, withoutBos.query_ids);
});

test("the Llama fixture's own config has no chat template; one can be added to it", () => {
  const config = { ...readJson(join(LLAMA_DIR, "tokenizer_config.json")), chat_template: TAGGED };
  const tok = withConfig(LLAMA_DIR, config);
  const e = encodeRecord(tok, { query: "Hello", responses: ["world"], scores: [0] }, { chatTemplate: true, compat: "official" });
  assert.equal(e.query_ids.filter((id) => id === L.bos).length, 1);
  assert.deepEqual(e.responses[0].response_ids, [L.bos, L._world, L.eos]);
});

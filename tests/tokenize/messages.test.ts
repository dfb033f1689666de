/**
 * Records whose prompt is a conversation (`messages`): always rendered by the
 * chat template, whatever `chatTemplate` says, and an error when there is none
 * (a conversation is never flattened into text).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import type { RrhfRecord } from "../../src/data/record.js";
import { renderChatMessages } from "../../src/tokenize/chat-template.js";
import { encodeRecord } from "../../src/tokenize/encode.js";
import { UserError } from "../../src/errors.js";
import { GPT2_DIR, L, gpt2, llama, readJson, withConfig } from "./tokenizers.js";

const TEMPLATE = "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}";
const CHAT: RrhfRecord = {
  messages: [
    { role: "system", content: "Be brief." },
    { role: "user", content: "Hi" },
    { role: "assistant", content: "Hello" },
    { role: "user", content: "Bye" },
  ],
  responses: [" See you", " No"],
  scores: [1, 0],
};

test("a messages record is rendered turn by turn through the tokenizer's chat template, with or without chatTemplate", async () => {
  const tok = withConfig(GPT2_DIR, { ...readJson(join(GPT2_DIR, "tokenizer_config.json")), chat_template: TEMPLATE });
  const text = "system: Be brief.\nuser: Hi\nassistant: Hello\nuser: Bye\nassistant:";
  assert.equal(renderChatMessages(tok, CHAT.messages ?? []).text, text);
  for (const chatTemplate of [undefined, false, true]) {
    const e = encodeRecord(tok, CHAT, { chatTemplate });
    assert.deepEqual(e.query_ids, tok.encode(text), `chatTemplate ${String(chatTemplate)}`);
    assert.equal(e.responses.length, 2);
  }
  // A template source given as a string is used for messages too.
  const plain = await gpt2();
  assert.deepEqual(
    encodeRecord(plain, CHAT, { chatTemplate: "{% for m in messages %}[{{ m.content }}]{% endfor %}" }).query_ids,
    plain.encode("[Be brief.][Hi][Hello][Bye]"),
  );
});

test("a messages record with a tokenizer without chat template is a clear error naming the record", async () => {
  const plain = await gpt2();
  assert.throws(
    () => encodeRecord(plain, CHAT, { name: "train.jsonl:4" }),
    (e: unknown) =>
      e instanceof UserError &&
      e.message.startsWith(
        "train.jsonl:4: messages: a conversation is rendered by the tokenizer's chat template, but tokenizer_config.json has no chat_template",
      ),
  );
});

test("official mode and a template that writes the BOS: one BOS, as for text queries", async () => {
  const tagged = "{{ bos_token }}{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}<|assistant|>";
  const tok = await llama();
  for (const compat of ["paper", "official"] as const) {
    const e = encodeRecord(tok, CHAT, { chatTemplate: tagged, compat });
    assert.equal(e.query_ids.filter((id) => id === L.bos).length, 1, compat);
    assert.equal(e.query_ids[0], L.bos);
  }
});

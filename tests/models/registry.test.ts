import assert from "node:assert/strict";
import { test } from "node:test";
import { getBackend } from "../../src/kernels/select.js";
import { refBackend } from "../../src/kernels/ref/index.js";
import { wasmAvailability } from "../../src/kernels/wasm/index.js";
import { loadModelFolder } from "../../src/models/hf/folder.js";
import { createCausalLM, loadCausalLM } from "../../src/models/registry.js";
import { fixture } from "../helpers.js";

const dir = fixture("models", "gpt2-tiny");

test("loadCausalLM and createCausalLM default to the auto backend, as the CLI does", () => {
  assert.equal(loadCausalLM(dir).backend, getBackend("auto"));
  assert.equal(createCausalLM(loadModelFolder(dir)).backend, getBackend("auto"));
});

test("the backend may be a name, with threads, or a Backend object", () => {
  assert.equal(loadCausalLM(dir, { backend: "ref" }).backend, refBackend);
  assert.equal(loadCausalLM(dir, { backend: refBackend }).backend, refBackend);
  if (wasmAvailability().ok) {
    const model = loadCausalLM(dir, { backend: "wasm", threads: 1 });
    assert.equal(model.backend, getBackend("wasm", { threads: 1 }));
  }
  assert.throws(() => loadCausalLM(dir, { backend: "gpu" as "ref" }), /unknown backend 'gpu'/);
});

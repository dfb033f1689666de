import assert from "node:assert/strict";
import { test } from "node:test";
import { SummaryBuilder } from "../../src/data/stats.js";

test("SummaryBuilder keeps an unknown key named __proto__ in unknown_keys", () => {
  const b = new SummaryBuilder();
  b.add({ query: "q", responses: ["a", "b"], scores: [1, 0] }, ["__proto__", "id"]);
  const summary = b.build();
  assert.deepEqual(Object.keys(summary.unknown_keys), ["__proto__", "id"]);
  assert.equal(JSON.stringify(summary.unknown_keys), '{"__proto__":1,"id":1}');
});

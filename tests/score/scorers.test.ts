/**
 * The scorers behind one interface: the rules; the HTTP scorer against a
 * server this test starts on 127.0.0.1 (its retries, backoff and errors);
 * the command scorer against a tiny node script (replies, garbage, death).
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { UserError } from "../../src/errors.js";
import type { ScoreItem } from "../../src/score/scorer.js";
import { rewardInputIds } from "../../src/score/model.js";
import { createScorer, type ScorerOptions } from "../../src/score/spec.js";
import { loadTokenizer } from "../../src/tokenize/tokenizer.js";
import { fixture, tempDir } from "../helpers.js";

const item = { query: "Is it?", responses: ["yes", "no way", "Yes, it is."], answer: "yes" };

async function scoreOnce(spec: string, items: ScoreItem[] = [item], opts: ScorerOptions = {}): Promise<number[][]> {
  const scorer = await createScorer(spec, opts);
  try {
    return await scorer.score(items);
  } finally {
    await scorer.close();
  }
}

const isUserError = (re: RegExp) => (err: unknown) => err instanceof UserError && re.test(err.message);

describe("rule scorers", () => {
  test("length counts characters (code points)", async () =>
    assert.deepEqual(await scoreOnce("rule:length", [{ query: "q", responses: ["abc", "é😀"] }]), [[3, 2]]));
  test("regex: 1 on a match, else 0", async () => assert.deepEqual(await scoreOnce("rule:regex:^[Yy]es"), [[1, 0, 1]]));
  test("keyword: how many of the words appear, case-insensitive", async () =>
    assert.deepEqual(await scoreOnce("rule:keyword:yes,it"), [[1, 0, 2]]));
  test("exact: the trimmed response equals the record's answer", async () => assert.deepEqual(await scoreOnce("rule:exact"), [[1, 0, 0]]));
  test("exact without an answer field, a bad regex and unknown specs are user errors", async () => {
    await assert.rejects(scoreOnce("rule:exact", [{ query: "q", responses: ["a"] }]), isUserError(/no "answer" field/));
    await assert.rejects(scoreOnce("rule:regex:("), isUserError(/not a valid regular expression/));
    await assert.rejects(scoreOnce("rule:nope"), isUserError(/unknown rule/));
    await assert.rejects(scoreOnce("nonsense"), isUserError(/unknown scorer "nonsense"/));
  });
});

describe("model scorer", () => {
  test("query + response through the reward model's tokenizer, one score per response", async () => {
    const [scores] = await scoreOnce(
      `model:${fixture("reward-models", "gpt2-rm")}`,
      [{ query: "Say hi.", responses: ["hi", "hello there"] }],
      { backend: "ref" },
    );
    assert.equal(scores.length, 2);
    assert.ok(scores.every(Number.isFinite) && scores[0] !== scores[1]);
  });
});

describe("reward-model input", () => {
  test("query + response with special tokens; with --chat-template the rendered query + response", async () => {
    const tok = await loadTokenizer(fixture("tokenizers", "llama"));
    const item = { query: "Hi", responses: [] };
    assert.deepEqual(rewardInputIds(tok, item, " there", false), tok.encode("Hi there"));
    const chat = { ...tok, chatTemplate: "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}<assistant>" };
    assert.deepEqual(rewardInputIds(chat, item, " there", true), tok.encode("<user>Hi<assistant> there"));
    assert.throws(() => rewardInputIds(tok, item, " there", true), isUserError(/no chat_template/));
  });
});

describe("HTTP scorer", () => {
  let server: Server;
  let base = "";
  const seen: Record<string, unknown>[] = [];
  let failuresLeft = 0;
  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString("utf8")));
      req.on("end", () => {
        const parsed = JSON.parse(body) as { responses: string[] };
        seen.push(parsed);
        const reply = (status: number, text: string): void => void res.writeHead(status, { "content-type": "application/json" }).end(text);
        if (req.url === "/flaky" && failuresLeft > 0) {
          failuresLeft--;
          return reply(failuresLeft % 2 === 0 ? 503 : 429, '{"error": "busy"}');
        }
        if (req.url === "/bad-request") return reply(400, '{"error": "no such model"}');
        if (req.url === "/garbage") return reply(200, "<html>");
        if (req.url === "/short") return reply(200, '{"scores": [1]}');
        if (req.url === "/slow") return void setTimeout(() => reply(200, "{}"), 2000);
        reply(200, JSON.stringify({ scores: parsed.responses.map((r) => r.length / 10) }));
      });
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  test("POSTs {query, responses, answer} and reads {scores}", async () => {
    seen.length = 0;
    assert.deepEqual(await scoreOnce(`${base}/score`), [[0.3, 0.6, 1.1]]);
    assert.deepEqual(seen, [{ query: "Is it?", responses: item.responses, answer: "yes" }]);
  });
  test("429 and 5xx are retried with backoff until they pass", async () => {
    failuresLeft = 3;
    seen.length = 0;
    assert.deepEqual(await scoreOnce(`${base}/flaky`, [item], { retries: 3, retry_delay: 0.01 }), [[0.3, 0.6, 1.1]]);
    assert.equal(seen.length, 4);
  });
  test("retries run out: a user error naming the last failure", async () => {
    failuresLeft = 5;
    await assert.rejects(
      scoreOnce(`${base}/flaky`, [item], { retries: 1, retry_delay: 0.01 }),
      isUserError(/failed after 2 attempt\(s\): HTTP (429|503)/),
    );
  });
  test("other statuses and replies that break the protocol fail at once, clearly", async () => {
    await assert.rejects(scoreOnce(`${base}/bad-request`), isUserError(/HTTP 400: \{"error": "no such model"\}/));
    await assert.rejects(scoreOnce(`${base}/garbage`), isUserError(/not JSON/));
    await assert.rejects(scoreOnce(`${base}/short`), isUserError(/1 entries for 3 responses/));
  });
  test("a timeout counts as a failure and is retried", async () => {
    await assert.rejects(
      scoreOnce(`${base}/slow`, [item], { timeout: 0.2, retries: 1, retry_delay: 0.01 }),
      isUserError(/no reply within 0.2 s/),
    );
  });
  test("a refused connection is retried, then reported", async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, "127.0.0.1", done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((done) => closed.close(() => done()));
    await assert.rejects(
      scoreOnce(`http://127.0.0.1:${port}/score`, [item], { retries: 1, retry_delay: 0.01 }),
      isUserError(/failed after 2 attempt\(s\): ECONNREFUSED/),
    );
  });
});

describe("command scorer", () => {
  const dir = tempDir("rrhf-cmd-scorer-");
  const script = join(dir, "judge.mjs");
  // One JSON line in, one out; "die" makes it exit, "garbage" makes it print nonsense.
  writeFileSync(
    script,
    `import { createInterface } from "node:readline";
let n = 0;
createInterface({ input: process.stdin }).on("line", (line) => {
  const req = JSON.parse(line);
  n++;
  if (req.query === "die") { process.stderr.write("judge: giving up\\n"); process.exit(3); }
  if (req.query === "garbage") { console.log("not json"); return; }
  console.log(JSON.stringify({ scores: req.responses.map((r) => r.length + n / 100) }));
});
`,
  );
  const spec = `cmd:${JSON.stringify(process.execPath)} ${JSON.stringify(script)}`;

  test("one process for the whole run, one line per prompt", async () => {
    const scorer = await createScorer(spec);
    try {
      assert.deepEqual(await scorer.score([item, { query: "x", responses: ["ab"] }]), [[3.01, 6.01, 11.01], [2.02]]);
      // The counter goes on: still the same process.
      assert.deepEqual(await scorer.score([{ query: "x", responses: ["a"] }]), [[1.03]]);
    } finally {
      await scorer.close();
    }
  });
  test("a command that dies: a user error with how it ended and its stderr", async () => {
    await assert.rejects(
      scoreOnce(spec, [{ query: "die", responses: ["a"] }]),
      isUserError(/exited with code 3 before replying[\s\S]*judge: giving up/),
    );
  });
  test("a command that prints garbage: a user error quoting the line", async () => {
    await assert.rejects(scoreOnce(spec, [{ query: "garbage", responses: ["a"] }]), isUserError(/not JSON.*"not json"/));
  });
  test("a command that does not reply in time", async () => {
    await assert.rejects(scoreOnce("cmd:sleep 5", [item], { timeout: 0.2 }), isUserError(/no reply within 0.2 s/));
  });
});

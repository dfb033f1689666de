/**
 * Crash safety of `rrhf label`: a scripted client posts rankings over HTTP
 * while the server is SIGKILLed at random moments (20+ times). After each
 * kill FILE must be a complete version (the one before the request in flight,
 * or the one after it), and after each restart every acknowledged ranking must
 * still be there. RRHF_LABEL_KILLS sets the number of kills (default 20).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { it } from "node:test";
import { type Ranking, scoresFromRanking } from "../../src/web/label/ranking.js";
import { tempDir } from "../helpers.js";
import { apiUrl, killHard, type LabelChild, spawnLabel, writeLabelFile } from "./label-helpers.js";

const KILLS = Number(process.env.RRHF_LABEL_KILLS ?? "20");
const RECORDS = 12;
const K = 4;

/** A seeded generator, so a failure can be replayed (the seed is in the test's name). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomRanking(random: () => number): Ranking {
  const order = [...Array(K).keys()];
  for (let i = K - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return { order, ties: order.map((_, p) => p > 0 && random() < 0.25) };
}

/** FILE's records; throws (failing the test) when any line is not complete JSON. */
function readRecords(file: string): { id: unknown; scores: number[] }[] {
  const lines = readFileSync(file, "utf8").split("\n");
  assert.equal(lines.at(-1), "", "FILE ends with its newline");
  return lines.slice(0, -1).map((l) => JSON.parse(l) as { id: unknown; scores: number[] });
}

/** What the client knows: the last acknowledged ranking of each record, and the request whose answer never came. */
interface ClientView {
  acked: Map<number, Ranking>;
  inFlight: { index: number; ranking: Ranking } | null;
}

/** Posts random rankings one after another until the server stops answering. */
async function postUntilKilled(label: LabelChild, view: ClientView, random: () => number): Promise<number> {
  let posted = 0;
  for (;;) {
    const index = Math.floor(random() * RECORDS);
    const ranking = randomRanking(random);
    view.inFlight = { index, ranking };
    let status: number;
    try {
      const res = await fetch(apiUrl(label.url, `/api/items/${index}/label`), {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(ranking),
      });
      status = res.status;
      await res.arrayBuffer();
    } catch {
      return posted; // killed: the request in flight may or may not have been saved
    }
    if (status === 429) {
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    assert.equal(status, 200);
    view.acked.set(index, ranking);
    view.inFlight = null;
    posted++;
  }
}

const seed = Number(process.env.RRHF_LABEL_KILL_SEED ?? Date.now() % 100000);

it(`rrhf label killed ${KILLS} times at random moments loses no acknowledged ranking (seed ${seed})`, async (t) => {
  const random = rng(seed);
  const file = join(tempDir(), "kill.jsonl");
  writeLabelFile(file, RECORDS, K);
  const view: ClientView = { acked: new Map(), inFlight: null };
  let totalPosted = 0;
  for (let round = 0; round < KILLS; round++) {
    const label = await spawnLabel(file);
    await checkServerHasAcked(label, view);
    const posting = postUntilKilled(label, view, random);
    await new Promise((r) => setTimeout(r, 5 + random() * 250));
    await killHard(label);
    totalPosted += await posting;
    checkFileIsAVersion(file, view);
  }
  const last = await spawnLabel(file);
  await checkServerHasAcked(last, view);
  assert.deepEqual(
    readdirSync(dirname(file)).sort(),
    ["kill.jsonl", "kill.jsonl.labels.json", "kill.jsonl.labels.lock"],
    "no temp file outlives a restart",
  );
  await killHard(last);
  t.diagnostic(`${totalPosted} rankings acknowledged across ${KILLS} kills`);
  assert.ok(totalPosted > KILLS, `only ${totalPosted} rankings were acknowledged in ${KILLS} rounds: the test did not exercise saving`);
});

/** After a kill: each record's scores are its acknowledged ones, or (the request in flight only) its new ones. */
function checkFileIsAVersion(file: string, view: ClientView): void {
  const records = readRecords(file);
  assert.equal(records.length, RECORDS);
  records.forEach((record, i) => {
    assert.equal(record.id, `rec-${i}`);
    const acked = view.acked.get(i);
    const allowed = [acked === undefined ? [0, 0, 0, 0] : scoresFromRanking(acked)];
    if (view.inFlight?.index === i) allowed.push(scoresFromRanking(view.inFlight.ranking));
    assert.ok(
      allowed.some((s) => JSON.stringify(s) === JSON.stringify(record.scores)),
      `record ${i}: scores ${JSON.stringify(record.scores)} are neither the old nor the new version ${JSON.stringify(allowed)}`,
    );
  });
}

/** After a restart: every acknowledged ranking is served back; the one in flight settles to old or new. */
async function checkServerHasAcked(label: LabelChild, view: ClientView): Promise<void> {
  for (let i = 0; i < RECORDS; i++) {
    const item = (await (await fetch(apiUrl(label.url, `/api/items/${i}`))).json()) as { ranking: Ranking | null };
    const acked = view.acked.get(i) ?? null;
    const flying = view.inFlight?.index === i ? view.inFlight.ranking : undefined;
    const same = (a: Ranking | null | undefined): boolean => JSON.stringify(a) === JSON.stringify(item.ranking);
    assert.ok(
      same(acked) || (flying !== undefined && same(flying)),
      `record ${i}: acknowledged ranking lost (${JSON.stringify(item.ranking)})`,
    );
    if (item.ranking !== null) view.acked.set(i, item.ranking);
  }
  view.inFlight = null;
}

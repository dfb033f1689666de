import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { test } from "node:test";
import { UserError } from "../../src/errors.js";
import { fitToWidth, formatMetric, METRICS_FILE, MetricsLogger, type StepMetrics } from "../../src/train/metrics-log.js";
import { NonFiniteGuard } from "../../src/train/nonfinite-guard.js";
import { tempDir } from "../helpers.js";

/** A writable that keeps what it is given; `isTTY` as asked. */
function captureStream(isTTY: boolean): Writable & { isTTY: boolean; text: () => string } {
  const chunks: string[] = [];
  const w = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return Object.assign(w, { isTTY, columns: 100, text: () => chunks.join("") });
}

/** A clock the test moves by hand: no real time involved. */
function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

function metrics(loss: number, extra: Partial<StepMetrics> = {}): StepMetrics {
  return {
    loss,
    rank_loss: loss / 2,
    sft_loss: loss / 2,
    ranking_accuracy: 0.5,
    margin: 1,
    learning_rate: 1e-5,
    grad_norm: 2,
    num_tokens: 100,
    ...extra,
  };
}

function readLines(dir: string): Record<string, number | null>[] {
  return readFileSync(join(dir, METRICS_FILE), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, number | null>);
}

test("averages each logging window and writes one JSON line per logging step", () => {
  const dir = tempDir();
  const clock = fakeClock();
  const stream = captureStream(false);
  const log = new MetricsLogger({ outputDir: dir, totalSteps: 5, loggingSteps: 2, stream, clock: clock.now });
  assert.equal(log.logStep(1, 0.2, metrics(1, { ranking_accuracy: null, learning_rate: 3e-5 })), null);
  clock.advance(500);
  const e = log.logStep(2, 0.4, metrics(3, { ranking_accuracy: 1, learning_rate: 2e-5 }));
  assert.deepEqual(e, {
    step: 2,
    epoch: 0.4,
    loss: 2,
    rank_loss: 1,
    sft_loss: 1,
    margin: 1,
    grad_norm: 2,
    ranking_accuracy: 1, // the step without ordered pairs does not count
    learning_rate: 2e-5, // the latest, not an average
    tokens_per_second: 400, // 200 tokens in 0.5 s
    skipped_nonfinite_steps: 0,
  });
  log.logSkipped(3, "step 3: non-finite loss=NaN; step skipped");
  log.logStep(4, 0.8, metrics(4));
  clock.advance(1000);
  log.logStep(5, 1, metrics(6)); // the last step always logs
  log.close();
  const lines = readLines(dir);
  assert.deepEqual(
    lines.map((l) => l.step),
    [2, 4, 5],
  );
  assert.equal(lines[1].skipped_nonfinite_steps, 1);
  assert.equal(lines[2].loss, 6);
  assert.equal(lines[1].tokens_per_second, null); // no time passed in that window
  assert.deepEqual(log.history, lines);
  const out = stream.text();
  assert.match(out, /^step=2 epoch=0\.4 loss=2 rank_loss=1 /m);
  assert.match(out, /learning_rate=2\.000e-5/);
  assert.match(out, /warning: step 3: non-finite loss=NaN/);
  assert.doesNotMatch(out, /\x1b\[/); // no terminal control codes in plain mode
});

test("non-finite averages become null in JSON and 'nan' on screen; eval keys get a prefix", () => {
  const dir = tempDir();
  const stream = captureStream(false);
  const log = new MetricsLogger({ outputDir: dir, totalSteps: 10, loggingSteps: 1, stream, clock: fakeClock().now });
  log.logStep(1, 0.1, metrics(Number.POSITIVE_INFINITY));
  log.logEval(1, 0.1, { loss: 0.7, eval_ranking_accuracy: 0.9 });
  log.close();
  const [train, ev] = readLines(dir);
  assert.equal(train.loss, null);
  assert.deepEqual(ev, { step: 1, epoch: 0.1, eval_loss: 0.7, eval_ranking_accuracy: 0.9 });
  assert.match(stream.text(), /loss=nan/);
});

test("on a TTY a progress bar with ETA is drawn and log lines still appear", () => {
  const dir = tempDir();
  const stream = captureStream(true);
  const log = new MetricsLogger({ outputDir: dir, totalSteps: 4, loggingSteps: 2, stream, clock: fakeClock().now });
  log.logStep(1, 0.25, metrics(1));
  log.logStep(2, 0.5, metrics(1));
  log.close();
  const out = stream.text();
  assert.match(out, /ETA/);
  assert.match(out, /2\/4 steps/);
  assert.match(out, /step=2 epoch=0\.5 loss=1/);
});

test("a resumed run drops metrics.jsonl lines past its step and a torn last line; a fresh run starts empty", () => {
  const dir = tempDir();
  const file = join(dir, METRICS_FILE);
  writeFileSync(file, '{"step":2,"loss":1}\n{"step":4,"loss":2}\n{"step":6,"loss":3}\n{"step":8,"lo');
  const resumed = new MetricsLogger({
    outputDir: dir,
    totalSteps: 10,
    loggingSteps: 2,
    startStep: 4,
    progress: "none",
    clock: fakeClock().now,
  });
  resumed.logStep(6, 0.6, metrics(9));
  resumed.close();
  assert.deepEqual(
    readLines(dir).map((l) => [l.step, l.loss]),
    [
      [2, 1],
      [4, 2],
      [6, 9],
    ],
  );
  const fresh = new MetricsLogger({ outputDir: dir, totalSteps: 10, loggingSteps: 2, progress: "none", clock: fakeClock().now });
  fresh.close();
  assert.equal(readFileSync(file, "utf8"), "");
});

test("formatMetric keeps lines short and readable", () => {
  assert.equal(formatMetric(12), "12");
  assert.equal(formatMetric(0.123456789), "0.12346");
  assert.equal(formatMetric(2e-5), "2.000e-5");
  assert.equal(formatMetric(123456.7), "1.235e+5");
  assert.equal(formatMetric(null), "nan");
  assert.equal(formatMetric(Number.NaN), "nan");
});

test("NonFiniteGuard skips non-finite steps, resets on a good one, stops after N in a row", () => {
  const guard = new NonFiniteGuard(3, 2);
  assert.equal(guard.check(1, { loss: 1, grad_norm: 2 }), true);
  assert.equal(guard.check(2, { loss: Number.NaN, grad_norm: 2 }), false);
  assert.match(guard.lastReason, /step 2: non-finite loss=NaN; step skipped \(1 in a row, 3 in total\)/);
  assert.equal(guard.check(3, { loss: 1, grad_norm: Infinity }), false);
  assert.equal(guard.check(4, { loss: 1, grad_norm: 1 }), true); // resets the run of bad steps
  assert.equal(guard.consecutive, 0);
  assert.equal(guard.check(5, { loss: Number.NaN }), false);
  assert.equal(guard.check(6, { loss: Number.NaN }), false);
  assert.throws(
    () => guard.check(7, { loss: 1, grad_norm: Number.NaN }),
    (err: unknown) => err instanceof UserError && /training stopped: 3 steps in a row .*step 7, grad_norm=NaN/.test(err.message),
  );
  assert.equal(guard.total, 7);
  assert.throws(() => new NonFiniteGuard(0), UserError);
});

test("fitToWidth breaks a long metrics line at spaces so no line passes the terminal width", () => {
  const line = "step=100 epoch=12.5 loss=2.7751 rank_loss=0.14525 sft_loss=2.6299";
  assert.deepEqual(fitToWidth(line, 1000), [line]);
  assert.deepEqual(fitToWidth(line, 40), ["step=100 epoch=12.5 loss=2.7751", "  rank_loss=0.14525 sft_loss=2.6299"]);
  for (const part of fitToWidth(line, 20)) assert.ok(part.length <= 20, part);
  assert.deepEqual(fitToWidth("averyveryverylongword x", 5), ["averyveryverylongword", "  x"]);
});

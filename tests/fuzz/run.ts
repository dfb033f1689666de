/**
 * The full fuzz run (not part of `npm test`):
 *
 *   npm run build && node dist/tests/fuzz/run.js --runs 100000 [--target NAME[,NAME]] [--seed N]
 *
 * Runs every target (or the named ones) for `--runs` inputs each and prints
 * one line per target: inputs, seconds, seed. On the first failing input it
 * prints fast-check's report (the shrunk counterexample and the seed/path to
 * replay it) and exits 1.
 */
import fc from "fast-check";
import { FUZZ_TARGETS } from "./targets.js";

interface Args {
  runs: number;
  targets: string[] | null;
  seed: number;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { runs: 100_000, targets: null, seed: Date.now() % 2 ** 31 };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    if (argv[i] === "--runs" && value !== undefined) args.runs = Number(value);
    else if (argv[i] === "--target" && value !== undefined) args.targets = value.split(",");
    else if (argv[i] === "--seed" && value !== undefined) args.seed = Number(value);
    else throw new Error(`usage: node dist/tests/fuzz/run.js [--runs N] [--target NAME[,NAME]] [--seed N] (bad argument ${argv[i]})`);
    i++;
  }
  if (!Number.isSafeInteger(args.runs) || args.runs < 1) throw new Error("--runs must be a positive integer");
  const known = FUZZ_TARGETS.map((t) => t.name);
  for (const t of args.targets ?? []) if (!known.includes(t)) throw new Error(`unknown target ${t} (known: ${known.join(", ")})`);
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  let failed = false;
  for (const target of FUZZ_TARGETS) {
    if (args.targets !== null && !args.targets.includes(target.name)) continue;
    const started = performance.now();
    const { arbitrary, check, dispose } = await target.prepare();
    const result = await fc.check(fc.asyncProperty(arbitrary, check), { numRuns: args.runs, seed: args.seed });
    await dispose?.();
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (result.failed) {
      failed = true;
      console.log(`${target.name}: FAILED after ${result.numRuns} inputs (${seconds} s, seed ${args.seed})`);
      console.log(fc.defaultReportMessage(result));
      const error = result.errorInstance;
      console.log(error instanceof Error ? (error.stack ?? error.message) : String(error));
      break;
    }
    console.log(`${target.name}: ${result.numRuns} inputs, no failure (${seconds} s, seed ${args.seed})`);
  }
  process.exitCode = failed ? 1 : 0;
}

await main();

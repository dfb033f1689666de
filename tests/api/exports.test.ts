/**
 * Pins the public API: the names `import ... from "rrhf"` offers. Adding or
 * removing an export must be a deliberate change to these lists (and to the
 * README's Library API section), never a side effect of `export *`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import ts from "typescript";
import * as api from "../../src/index.js";
import { repoRoot } from "../helpers.js";

/** Run-time exports (values, functions, classes). */
const PUBLIC_VALUES = [
  "GENERATE_SETTINGS",
  "GENERATE_STRATEGIES",
  "checkGenerateSettings",
  "cutAtStop",
  "eosTokenIdsOf",
  "generate",
  "generateSettings",
  "generateSettingsProblems",
  "generateWith",
  "BACKEND_NAMES",
  "COMPAT_MODES",
  "CONVERT_FORMATS",
  "DataError",
  "EVAL_SETTINGS",
  "ITERATE_SETTINGS",
  "FORWARD_LAYOUTS",
  "IGNORE_INDEX",
  "INPUT_FORMATS",
  "InternalError",
  "MODEL_SETTINGS",
  "NonFiniteLogpError",
  "OFFICIAL_CODE_RRHF_WEIGHT",
  "RRHF_SETTINGS",
  "SERVE_SETTINGS",
  "SUPPORTED_ARCHITECTURES",
  "TOKENIZE_SETTINGS",
  "TRAIN_SETTINGS",
  "UserError",
  "VERSION",
  "autodiff",
  "buildQueryBatch",
  "collate",
  "convertFile",
  "createCausalLM",
  "createScorer",
  "describeBackends",
  "encodeRecord",
  "encodeRecords",
  "evaluate",
  "formatEvalTable",
  "formatIterateSummary",
  "getBackend",
  "hhToRecord",
  "iterate",
  "loadCausalLM",
  "loadModelFolder",
  "loadRewardModel",
  "loadTokenizer",
  "loadTrainConfigFile",
  "paddedRows",
  "pairToRecord",
  "rankingMetrics",
  "readAllRecords",
  "readRecords",
  "readSafetensors",
  "readSafetensorsHeader",
  "renderChatMessages",
  "renderChatQuery",
  "resolveTrainConfig",
  "rrhfLoss",
  "rrhfLossBackward",
  "rrhfLossWithGrad",
  "saveModelFolder",
  "scoreFile",
  "selectBatchRows",
  "selectResponses",
  "startServer",
  "train",
  "validateFile",
  "writeSafetensors",
  "SAVE_DTYPES",
  "SAVE_SETTINGS",
  "SFT_SETTINGS",
  "TRAIN_OBJECTIVES",
  "encodeSftRecord",
  "readSftRecords",
  "resolveSftConfig",
  "sft",
  "writeRunReport",
];

/** Type-only exports (interfaces and type aliases). */
const PUBLIC_TYPES = [
  "DecodeOptions",
  "DecodeSession",
  "FinishReason",
  "GenerateRequest",
  "GenerateSettings",
  "GenerateStrategy",
  "Generation",
  "OpenSession",
  "StopStrings",
  "Backend",
  "BackendInfo",
  "BackendName",
  "BackendOptions",
  "BuildBatchOptions",
  "CausalLM",
  "ChatMessage",
  "ChatRecord",
  "ChatRole",
  "CollateOptions",
  "CompatMode",
  "ConvertFormat",
  "ConvertOptions",
  "ConvertResult",
  "CreateCausalLMOptions",
  "DataSummary",
  "EncodeOptions",
  "EncodedRecord",
  "EncodedResponse",
  "EvalResult",
  "EvalSettings",
  "EvaluateOptions",
  "F32Tensor",
  "ForwardLayout",
  "ForwardOptions",
  "HfModel",
  "InputFormat",
  "IterateOptions",
  "IterateRound",
  "IterateSettings",
  "IterateStage",
  "IterateSummary",
  "LengthSummary",
  "LocatedRecord",
  "LogEntry",
  "LogpArray",
  "LogpPass",
  "ModelSettings",
  "NamedF32Tensor",
  "NormalizedConfig",
  "PaddedInput",
  "PaddedRows",
  "ParamStore",
  "PolicyScores",
  "QueryBatch",
  "QueryGroup",
  "RankingMetrics",
  "ReadOptions",
  "RunReportOptions",
  "RenderedQuery",
  "RunningServer",
  "ServeSettings",
  "ServerOptions",
  "ResponseSelection",
  "RrhfLossBatch",
  "RewardModel",
  "RewardModelOptions",
  "RrhfLossOptions",
  "RrhfLossResult",
  "RrhfRecord",
  "RrhfSettings",
  "RrhfTokenizer",
  "SafetensorsDtype",
  "SafetensorsHeader",
  "SavableModel",
  "ScoreFileOptions",
  "ScoreItem",
  "ScoreProgress",
  "Scorer",
  "ScorerOptions",
  "SpecialTokenIds",
  "SpecialTokenStrings",
  "TensorInfo",
  "TextRecord",
  "TokenSummary",
  "TokenizeSettings",
  "TrainConfig",
  "TrainConfigInput",
  "TrainInterruption",
  "TrainIo",
  "TrainResult",
  "TruncationReport",
  "ValidateOptions",
  "ValidationReport",
  "LocatedSftRecord",
  "SaveDtype",
  "SaveOptions",
  "SaveSettings",
  "SftConfigInput",
  "SftEncodeOptions",
  "SftRecord",
  "TrainObjective",
  "WriteDtype",
];

/** The tensor engine's namespace, `autodiff` (run-time names). */
const AUTODIFF_VALUES = [
  "BufferPool",
  "Graph",
  "IGNORE_INDEX",
  "Tensor",
  "add",
  "causalAttention",
  "checkpoint",
  "createRopeTable",
  "embedding",
  "formatShape",
  "gatherLabels",
  "gatherRows",
  "gelu",
  "layerNorm",
  "linear",
  "lmHeadLogProbs",
  "logSoftmax",
  "matmul",
  "mean",
  "mergeHeads",
  "mul",
  "numel",
  "parameter",
  "reshape",
  "rmsNorm",
  "rope",
  "ropeInvFreq",
  "scale",
  "silu",
  "swiglu",
  "softmax",
  "split",
  "splitHeads",
  "sub",
  "sum",
];

/** Internals and test hooks that were once exported and must stay private. */
const NEVER_PUBLIC = [
  "NONFINITE_TEST_ENV",
  "writeStreamAtomic",
  "addTrainOptions",
  "flagFor",
  "trainInputFromOptions",
  "parseRrhfConfig",
  "RrhfMetricsAccumulator",
  "runCli",
  "setDefaultBackend",
  "getDefaultBackend",
  "DEFAULT_LENGTH_PENALTY",
  "DEFAULT_RRHF_WEIGHT",
];

function sorted(names: Iterable<string>): string[] {
  return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

interface ExportedSymbol {
  name: string;
  isValue: boolean;
  /** Whether its TSDoc, or its module's opening TSDoc naming it, has an @example. */
  hasExample: boolean;
}

/** The opening TSDoc comment of a module (its header), or "". */
function moduleHeader(text: string): string {
  const m = /^\s*(\/\*\*[\s\S]*?\*\/)/.exec(text);
  return m ? m[1] : "";
}

/** Every name src/index.ts exports, types included, as the TypeScript compiler resolves them. */
function compiledExports(): ExportedSymbol[] {
  const entry = join(repoRoot, "src", "index.ts");
  const program = ts.createProgram([entry], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  assert.ok(source, "src/index.ts is readable");
  const moduleSymbol = checker.getSymbolAtLocation(source);
  assert.ok(moduleSymbol, "src/index.ts is a module");
  return checker.getExportsOfModule(moduleSymbol).map((s) => {
    const real = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
    const own = real.getJsDocTags(checker).some((t) => t.name === "example");
    const header = moduleHeader(real.declarations?.[0]?.getSourceFile().text ?? "");
    const inHeader = header.includes("@example") && new RegExp(`\\b${s.name}\\b`).test(header);
    return { name: s.name, isValue: (real.flags & ts.SymbolFlags.Value) !== 0, hasExample: own || inHeader };
  });
}

const compiled = compiledExports();

test("the package root exports exactly the pinned run-time names", () => {
  assert.deepEqual(sorted(Object.keys(api)), sorted(PUBLIC_VALUES));
});

test("the package root exports exactly the pinned names, types included", () => {
  assert.deepEqual(sorted(compiled.map((e) => e.name)), sorted([...PUBLIC_VALUES, ...PUBLIC_TYPES]));
});

/**
 * Exports still without a TSDoc example. Empty: every export has one; keep
 * it that way (a new export comes with its example).
 */
const TYPES_AWAITING_EXAMPLES: string[] = [];

test("every export has a TSDoc example (its own, or in its module's header), but for the listed types", () => {
  const without = compiled.filter((e) => !e.hasExample).map((e) => e.name);
  assert.deepEqual(sorted(without), sorted(TYPES_AWAITING_EXAMPLES));
});

test("the autodiff namespace exports exactly the pinned engine names", () => {
  assert.deepEqual(sorted(Object.keys(api.autodiff)), sorted(AUTODIFF_VALUES));
});

test("internals and test hooks are not exported", () => {
  const exported = new Set([...Object.keys(api), ...Object.keys(api.autodiff)]);
  for (const name of NEVER_PUBLIC) assert.ok(!exported.has(name), `${name} must not be public`);
});

import type { Command } from "commander";
import type { CliIo } from "../io.js";
import { registerConvert } from "./convert.js";
import { registerDemo } from "./demo.js";
import { registerEval } from "./eval.js";
import { registerInitModel } from "./init-model.js";
import { registerIterate } from "./iterate.js";
import { registerLabel } from "./label.js";
import { registerLoss } from "./loss.js";
import { registerReport } from "./report.js";
import { registerSample } from "./sample.js";
import { registerScore } from "./score.js";
import { registerSft } from "./sft.js";
import { registerServe } from "./serve.js";
import { registerTrain } from "./train.js";
import { registerValidate } from "./validate.js";

/** Adds every `rrhf` sub-command to `program`; one module per command. */
export function registerCommands(program: Command, io: CliIo): void {
  registerDemo(program, io);
  registerValidate(program, io);
  registerConvert(program, io);
  registerInitModel(program, io);
  registerLoss(program, io);
  registerTrain(program, io);
  registerSft(program, io);
  registerSample(program, io);
  registerScore(program, io);
  registerEval(program, io);
  registerIterate(program, io);
  registerReport(program, io);
  registerServe(program, io);
  registerLabel(program, io);
}

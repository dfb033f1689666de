/**
 * `rrhf serve --model DIR [--host 127.0.0.1] [--port 8000] [--api-key KEY]`:
 * an OpenAI-compatible server (src/serve/) until SIGINT or SIGTERM, which
 * close it cleanly (exit 0).
 */
import type { Command } from "commander";
import { resolveSettings } from "../../settings/index.js";
import { SERVE_SETTINGS } from "../../serve/settings.js";
import { addSettingOptions, settingsFromOptions } from "../flags.js";
import type { CliIo } from "../io.js";

/** Registers `rrhf serve`. */
export function registerServe(program: Command, io: CliIo): void {
  const cmd = program
    .command("serve")
    .description("serve a model over an OpenAI-compatible HTTP API (/v1/models, /v1/completions, /v1/chat/completions)")
    .requiredOption("--model <dir>", "Hugging Face model folder (config.json + model.safetensors; tokenizer files too unless --tokenizer)")
    .option("--tokenizer <dir>", "tokenizer folder (default: the model folder)");
  addSettingOptions(cmd, SERVE_SETTINGS);
  cmd.action(async (flags: { model: string; tokenizer?: string } & Record<string, unknown>) => {
    const settings = resolveSettings(SERVE_SETTINGS, settingsFromOptions(SERVE_SETTINGS, flags), "flags");
    const { startServer } = await import("../../serve/server.js");
    const server = await startServer({ model: flags.model, tokenizer: flags.tokenizer, settings, log: (line) => io.stderr(`${line}\n`) });
    io.stdout(`rrhf: serve: ${server.modelName} listening on ${server.url}/v1 (Ctrl-C to stop)\n`);
    const signal = await new Promise<NodeJS.Signals>((stop) => {
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    io.stderr(`rrhf: serve: ${signal}: closing\n`);
    await server.close();
  });
}

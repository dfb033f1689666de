/**
 * `rrhf label FILE`: serves the ranking page for a JSONL file until Ctrl-C
 * (or SIGTERM). Every ranking is written into FILE's scores (and the sidecar
 * FILE.labels.json) before the page is told it is saved.
 */
import type { Command } from "commander";
import { resolveSettings } from "../../settings/index.js";
import { startLabelServer } from "../../web/label/server.js";
import { LABEL_SETTINGS } from "../../web/label/settings.js";
import { sidecarPath } from "../../web/label/store.js";
import { addSettingOptions, settingsFromOptions } from "../flags.js";
import type { CliIo } from "../io.js";

/** Resolves on the first SIGINT or SIGTERM (the server then closes and the command ends with exit 0). */
function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

/** Registers `rrhf label`. */
export function registerLabel(program: Command, io: CliIo): void {
  const cmd = program
    .command("label")
    .description("serve a web page where a person ranks each query's responses; the ranks become FILE's scores")
    .argument("<file>", "JSONL file of {query or messages, responses[, scores]} records; edited in place");
  addSettingOptions(cmd, LABEL_SETTINGS);
  cmd.action(async (file: string, flags: Record<string, unknown>) => {
    const settings = resolveSettings(LABEL_SETTINGS, settingsFromOptions(LABEL_SETTINGS, flags), "flags");
    const server = await startLabelServer(file, settings);
    const { store } = server;
    io.stdout(`rrhf label: ${file}: ${store.labelledCount} of ${store.total} labelled (labels kept in ${sidecarPath(file)})\n`);
    io.stdout(`Ranking page: ${server.url}\n`);
    io.stdout("Press Ctrl-C to stop; every ranking is already saved.\n");
    await untilStopped();
    await server.close();
    io.stdout(`rrhf label: stopped; ${store.labelledCount} of ${store.total} labelled\n`);
  });
}

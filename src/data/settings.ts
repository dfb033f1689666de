/**
 * The data-reading settings every command that reads records shares (`validate`, `convert`, `loss`, `train`).
 *
 * @example
 * const read = resolveSettings(DATA_SETTINGS, { data_format: "parquet" }, "flags");
 * for await (const { record } of readRecords("rows.bin", { format: read.data_format ?? undefined })) use(record);
 */
import { rules, setting, type SettingsOf } from "../settings/index.js";
import { INPUT_FORMATS } from "./source.js";

export const DATA_SETTINGS = {
  data_format: setting({
    rule: rules.nullable(rules.choice(INPUT_FORMATS)),
    default: null,
    flag: "--format",
    metavar: "format",
    help: "Format of the data files (jsonl, jsonl.gz or parquet); by default chosen by extension: .parquet, .gz, else JSONL.",
  }),
} as const;

export type DataReadSettings = SettingsOf<typeof DATA_SETTINGS>;

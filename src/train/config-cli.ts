/**
 * Turns the `TrainConfig` field table into commander flags, and the parsed
 * flags back into config overrides, so `rrhf train --help` and the config
 * file describe the same settings.
 *
 * @example
 * const cmd = addTrainOptions(new Command("train"));
 * cmd.action(async (opts) => {
 *   const config = resolveTrainConfig(trainInputFromOptions(opts));
 * });
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import { TRAIN_DEFAULTS, TRAIN_FIELD_HELP, type TrainConfigInput, type TrainFieldName } from "./config.js";

const FIELD_NAMES = Object.keys(TRAIN_FIELD_HELP) as TrainFieldName[];

/** The flag of a field: its own, or `--` + kebab-case name. */
export function flagFor(field: TrainFieldName): string {
  return TRAIN_FIELD_HELP[field].flag ?? `--${field.replace(/_/g, "-")}`;
}

function parseNumber(value: string): number {
  // Number("") is 0 and Number("0x10") is 16: accept plain decimal/scientific only.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value.trim())) throw new InvalidArgumentError("not a number.");
  return Number(value);
}

function parseInteger(value: string): number {
  const n = parseNumber(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError("not an integer.");
  return n;
}

function defaultText(field: TrainFieldName): string {
  if (!(field in TRAIN_DEFAULTS)) return " (required)";
  const v = (TRAIN_DEFAULTS as Record<string, unknown>)[field];
  if (v === null || v === false) return "";
  // 2e-5 reads better than 0.00002.
  const text = typeof v === "number" && v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential() : String(v);
  return ` (default: ${text})`;
}

/** Attribute name commander stores a field's flag under (e.g. `--out` -> "out"). */
function attributeOf(field: TrainFieldName): string {
  return new Option(flagFor(field)).attributeName();
}

/**
 * Adds `--config <file>` and one flag per TrainConfig field to `cmd`. No
 * defaults are set on the flags, so a flag that was not given stays
 * undefined and cannot override the config file. Booleans also get a
 * `--no-...` form to switch off what a config file switched on.
 */
export function addTrainOptions(cmd: Command): Command {
  cmd.addOption(new Option("--config <file>", "JSON or YAML file with any of these settings (snake_case keys); flags override it"));
  for (const field of FIELD_NAMES) {
    const h = TRAIN_FIELD_HELP[field];
    const flag = flagFor(field);
    const help = `${h.help}${defaultText(field)}`;
    if (h.kind === "boolean") {
      cmd.addOption(new Option(flag, help));
      cmd.addOption(new Option(`--no-${flag.slice(2)}`, `turn ${flag} off (overrides the config file)`).hideHelp());
      continue;
    }
    const opt = new Option(`${flag} <${h.metavar ?? "value"}>`, help);
    if (h.kind === "number") opt.argParser(parseNumber);
    else if (h.kind === "int") opt.argParser(parseInteger);
    else if (h.kind === "choice" && h.choices) opt.choices(h.choices);
    cmd.addOption(opt);
  }
  return cmd;
}

/** The parsed flags of `addTrainOptions` as the arguments of `resolveTrainConfig`. */
export function trainInputFromOptions(opts: Record<string, unknown>): { configFile: string | null; overrides: TrainConfigInput } {
  const overrides: TrainConfigInput = {};
  for (const field of FIELD_NAMES) {
    const v = opts[attributeOf(field)];
    if (v !== undefined) overrides[field] = v;
  }
  const configFile = typeof opts.config === "string" ? opts.config : null;
  return { configFile, overrides };
}

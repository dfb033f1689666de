/**
 * Settings tables as commander flags: one flag per setting, its help and
 * default from the table, its value checked against the setting's rule at
 * parse time. A bad value exits 2 with `error: --learning-rate must be > 0`
 * (the flag and the rule), on every command built this way.
 *
 * @example
 * const cmd = addSettingOptions(new Command("loss"), LOSS_SETTINGS);
 * cmd.action((opts) => {
 *   const settings = resolveSettings(LOSS_SETTINGS, settingsFromOptions(LOSS_SETTINGS, opts), "flags");
 * });
 */
import { type Command, Option } from "commander";
import {
  flagOf,
  formatDefault,
  isRequired,
  parseSettingText,
  type SettingSpec,
  type SettingsInput,
  type SettingsTable,
} from "../settings/index.js";

/** Code of the CommanderError a bad setting value throws (exit code 2). */
export const INVALID_SETTING = "rrhf.invalidSetting";

/** How a command shows a table's flags. */
export interface SettingOptionsStyle {
  /** Append "(default: x)" / "(required)" to the help (default true). Off where an absent flag means "not used". */
  showDefaults?: boolean;
  /** Put before every help text, e.g. "with --tokenizer: ". */
  helpPrefix?: string;
  /**
   * Settings without a default become mandatory flags (exit 2 when missing). For commands without a
   * config file; `train` leaves it off, as its required settings may come from `--config`.
   */
  requiredFlags?: boolean;
}

/** Help of one setting's flag: prefix, help, choices, default. */
export function flagHelp(spec: SettingSpec<unknown>, style: SettingOptionsStyle = {}): string {
  const choices = spec.rule.choices ? ` (choices: ${spec.rule.choices.join(", ")})` : "";
  const shown = formatDefault(spec);
  const dflt = style.showDefaults === false || shown === "" ? "" : shown === "required" ? " (required)" : ` (default: ${shown})`;
  return `${style.helpPrefix ?? ""}${spec.help}${choices}${dflt}`;
}

/** The value parser of a flag: the setting's rule, failing as `error: --flag rule` with exit code 2. */
function ruleParser(cmd: Command, flag: string, spec: SettingSpec<unknown>): (text: string) => unknown {
  return (text) => {
    const parsed = parseSettingText(spec, text);
    if (parsed.ok) return parsed.value;
    // Not InvalidArgumentError: commander would prefix its own "option '...' argument '...' is invalid." text.
    return cmd.error(`error: ${flag} ${parsed.message}`, { exitCode: 2, code: INVALID_SETTING });
  };
}

/**
 * Adds one flag per setting of `table` to `cmd`. No commander defaults are
 * set, so a flag that was not given stays undefined (and cannot override a
 * config file); defaults come from resolving the table. Booleans also get a
 * hidden `--no-...` form to switch off what a config file switched on.
 */
export function addSettingOptions(cmd: Command, table: SettingsTable, style: SettingOptionsStyle = {}): Command {
  for (const [name, spec] of Object.entries(table)) {
    const flag = flagOf(name, spec);
    const help = flagHelp(spec, style);
    if (spec.rule.kind === "boolean") {
      cmd.addOption(new Option(flag, help));
      cmd.addOption(new Option(`--no-${flag.slice(2)}`, `turn ${flag} off (overrides the config file)`).hideHelp());
      continue;
    }
    const option = new Option(`${flag} <${spec.metavar ?? "value"}>`, help).argParser(ruleParser(cmd, flag, spec));
    if (style.requiredFlags === true && isRequired(spec)) option.makeOptionMandatory();
    cmd.addOption(option);
  }
  return cmd;
}

/** The settings of `table` given as flags (parsed by `addSettingOptions`), by setting name; flags not given are left out. */
export function settingsFromOptions(table: SettingsTable, opts: Record<string, unknown>): SettingsInput {
  const input: SettingsInput = {};
  for (const [name, spec] of Object.entries(table)) {
    const value = opts[new Option(flagOf(name, spec)).attributeName()];
    if (value !== undefined) input[name] = value;
  }
  return input;
}

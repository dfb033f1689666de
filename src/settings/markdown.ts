/**
 * A settings table as Markdown rows, so the README's flag tables are the
 * help texts themselves (a test checks the README holds these exact rows).
 *
 * @example
 * settingsMarkdownRows(RRHF_SETTINGS)[0];
 * // "| `--length-penalty <x>` | `length_penalty` | 1 | Exponent on the response length ... |"
 */
import { flagOf, formatDefault, type SettingsTable } from "./spec.js";

function cell(text: string): string {
  return text.replace(/\|/g, "\\|");
}

/**
 * One row per setting: flag (with its value placeholder), setting name,
 * default ("required" or "—" for none) and help (plus `notes[name]` and the
 * choices, where there are any).
 */
export function settingsMarkdownRows(table: SettingsTable, notes: Readonly<Record<string, string>> = {}): string[] {
  return Object.entries(table).map(([name, spec]) => {
    const flag = spec.rule.kind === "boolean" ? flagOf(name, spec) : `${flagOf(name, spec)} <${spec.metavar ?? "value"}>`;
    const shown = spec.default === false ? "false" : formatDefault(spec);
    const choices = spec.rule.choices ? ` Choices: ${spec.rule.choices.map((c) => `\`${c}\``).join(", ")}.` : "";
    const note = notes[name] ? ` ${notes[name]}` : "";
    return `| \`${cell(flag)}\` | \`${name}\` | ${shown === "" ? "—" : cell(shown)} | ${cell(spec.help)}${choices}${cell(note)} |`;
  });
}

/** Settings tables: rules, specs and their resolution (no command-line code; cli/flags.ts turns tables into flags). */
export { ruleProblem, rules, type Bounds, type Rule, type SettingKind } from "./rules.js";
export {
  flagOf,
  formatDefault,
  isRequired,
  kindOf,
  parseSettingText,
  pickSettings,
  setting,
  settingProblem,
  type DefaultedSettingSpec,
  type ParsedText,
  type SettingSpec,
  type SettingsInput,
  type SettingsOf,
  type SettingsTable,
  type SettingValue,
} from "./spec.js";
export { checkSettingsInput, closestName, defaultsOf, resolveSettings } from "./resolve.js";
export { settingsMarkdownRows } from "./markdown.js";

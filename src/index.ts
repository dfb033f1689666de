/**
 * The public API of `rrhf`. Everything a library user may rely on is exported
 * here; modules not re-exported are internal.
 */
export { UserError, DataError } from "./errors.js";
export { VERSION } from "./version.js";
export { runCli } from "./cli/main.js";

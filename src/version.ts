import { readFileSync } from "node:fs";

/**
 * The package version, read from package.json next to the built tree.
 *
 * @example
 * console.log(`rrhf ${VERSION}`); // "rrhf 0.1.0"
 */
export const VERSION: string = (() => {
  const url = new URL("../../package.json", import.meta.url);
  const pkg = JSON.parse(readFileSync(url, "utf8")) as { version: string };
  return pkg.version;
})();

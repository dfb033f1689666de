import { readFileSync } from "node:fs";

/** The package version, read from package.json next to the built tree. */
export const VERSION: string = (() => {
  const url = new URL("../../package.json", import.meta.url);
  const pkg = JSON.parse(readFileSync(url, "utf8")) as { version: string };
  return pkg.version;
})();

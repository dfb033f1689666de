/**
 * The plotting library the report inlines: uPlot (MIT, a runtime
 * dependency), read from the installed package when a report is written,
 * so the HTML needs no network and no files beside it.
 *
 * @example
 * const { script, css } = loadPlotAssets(); // uPlot's minified IIFE build and its stylesheet
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { InternalError } from "../../errors.js";

export interface PlotAssets {
  /** uPlot's browser build; defines the global `uPlot`. */
  script: string;
  css: string;
}

let cached: PlotAssets | null = null;

/** Reads uPlot's browser build and CSS from node_modules (once per process). */
export function loadPlotAssets(): PlotAssets {
  if (cached !== null) return cached;
  const require = createRequire(import.meta.url);
  try {
    cached = {
      script: readFileSync(require.resolve("uplot/dist/uPlot.iife.min.js"), "utf8"),
      css: readFileSync(require.resolve("uplot/dist/uPlot.min.css"), "utf8"),
    };
  } catch (err) {
    throw new InternalError(
      `the run report needs the uplot package, which is not installed: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return cached;
}

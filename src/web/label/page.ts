/**
 * The ranking page: one HTML file with its style sheet and script put inline
 * (assets/label.html, label.css, label.js, copied into dist by the build), so
 * the page is one request and works offline. The Content-Security-Policy
 * allows exactly these inline blocks (by hash) and requests to this server.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

/** The page and the headers it is served with. */
export interface LabelPage {
  html: string;
  contentSecurityPolicy: string;
}

function asset(name: string): string {
  return readFileSync(new URL(`./assets/${name}`, import.meta.url), "utf8");
}

function sha256Source(text: string): string {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

/** Builds the page from its assets. */
export function buildLabelPage(): LabelPage {
  const style = asset("label.css");
  const script = asset("label.js");
  const html = asset("label.html")
    .replace("/*STYLE*/", () => style)
    .replace("/*SCRIPT*/", () => script);
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src ${sha256Source(script)}`,
    `style-src ${sha256Source(style)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
  return { html, contentSecurityPolicy };
}

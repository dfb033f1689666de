// Copies every `assets` folder under src/ (web pages' HTML, CSS and browser scripts, which tsc does not emit)
// to the same place under dist/src/, so the built package serves them from beside its compiled code.
import { cpSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const src = join(root, "src");

function* assetFolders(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    if (entry.name === "assets") yield path;
    else yield* assetFolders(path);
  }
}

for (const folder of assetFolders(src)) {
  cpSync(folder, join(root, "dist", "src", relative(src, folder)), { recursive: true });
}

/** Shared by the serve tests: served fixture models and a raw request helper. */
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startServer, type RunningServer } from "../../src/serve/server.js";
import type { SettingsInput } from "../../src/settings/index.js";
import { fixture, tempDir } from "../helpers.js";

export const MODEL = fixture("models", "gpt2-tiny");
/** Renders `u: Hi there\na:` for the user message "Hi there" (the gpt2-tiny tokenizer: one token per character). */
export const TEMPLATE = "{% for m in messages %}{{ m.role[0] }}: {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}a:{% endif %}";

/** A copy of gpt2-tiny whose tokenizer_config.json has a chat_template. */
export function templatedModel(): string {
  const dir = tempDir("rrhf-serve-chat-");
  cpSync(MODEL, dir, { recursive: true });
  const configPath = join(dir, "tokenizer_config.json");
  const config = JSON.parse(readFileSync(configPath, "utf8")) as Record<string, unknown>;
  writeFileSync(configPath, JSON.stringify({ ...config, chat_template: TEMPLATE }));
  return dir;
}

/** Starts a server on 127.0.0.1, a free port, the reference kernels. */
export function serve(settings: SettingsInput = {}, model = MODEL): Promise<RunningServer> {
  return startServer({ model, settings: { port: 0, backend: "ref", ...settings }, log: () => {} });
}

/** POSTs `body` (an object as JSON, or raw text) and returns the status and the parsed JSON answer. */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** The `error` object of an OpenAI error body. */
export function errorOf(json: Record<string, unknown>): { message: string; type: string; param: string | null; code: string | null } {
  return json.error as { message: string; type: string; param: string | null; code: string | null };
}

/**
 * Reads the fenced code blocks of a Markdown file, and the convention by
 * which README.md marks the few blocks a test must not run:
 *
 * - A block's language says how it is checked: `sh`/`bash` run in bash,
 *   `console` runs each `$ ` command and checks the output lines below it,
 *   `ts`/`js` run as ES modules importing "rrhf", `json`/`jsonl`/`yaml` are
 *   parsed. `text` is not code (synopses, listings) and is not run.
 * - `<!-- readme-test: skip: REASON -->` on the line right before a fence (blank
 *   lines between are allowed) skips that block; the reason is required.
 * - A block without a language, or with another one, is an error: every
 *   block is either run or says why not. So is an indented code block (four
 *   spaces after a blank line): it has no language, so write it fenced.
 */

export const RUNNABLE_LANGUAGES = ["sh", "bash", "console", "ts", "js", "json", "jsonl", "yaml"] as const;
export type RunnableLanguage = (typeof RUNNABLE_LANGUAGES)[number];
/** Languages whose blocks are prose-like text, never run. */
export const TEXT_LANGUAGES = ["text"] as const;

export interface MarkdownBlock {
  /** 1-based line of the opening fence. */
  line: number;
  /** The info string's first word ("" when there is none). */
  lang: string;
  code: string;
  /** The reason given by a `readme-test: skip:` marker, or null. */
  skip: string | null;
  /** A marker comment before the fence that does not follow the convention, or null. */
  badMarker: string | null;
}

const FENCE = /^(`{3,}|~{3,})\s*([^\s`]*)/;
const MARKER = /^<!--\s*readme-test:(.*?)-->\s*$/;
const SKIP = /^\s*skip:\s*(\S.*?)\s*$/;

/** Every fenced code block of `markdown`, in order. */
export function markdownBlocks(markdown: string): MarkdownBlock[] {
  const lines = markdown.split(/\r?\n/);
  const blocks: MarkdownBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    const fence = open[1];
    const isClose = (l: string): boolean => {
      const t = l.trim();
      return t.length >= fence.length && t === fence[0].repeat(t.length);
    };
    const end = lines.findIndex((l, j) => j > i && isClose(l));
    const close = end === -1 ? lines.length : end;
    const marker = markerBefore(lines, i);
    blocks.push({ line: i + 1, lang: open[2].toLowerCase(), code: lines.slice(i + 1, close).join("\n"), ...marker });
    i = close;
  }
  return blocks;
}

function markerBefore(lines: string[], fenceIndex: number): { skip: string | null; badMarker: string | null } {
  let j = fenceIndex - 1;
  while (j >= 0 && lines[j].trim() === "") j--;
  const m = j >= 0 ? MARKER.exec(lines[j].trim()) : null;
  if (!m) return { skip: null, badMarker: null };
  const skip = SKIP.exec(m[1]);
  return skip ? { skip: skip[1], badMarker: null } : { skip: null, badMarker: lines[j].trim() };
}

/**
 * 1-based lines that open an indented code block (four spaces or a tab after
 * a blank line, outside fences). List continuations in README.md are
 * indented by two spaces, so they are not mistaken for code.
 */
export function indentedCodeLines(markdown: string): number[] {
  const lines = markdown.split(/\r?\n/);
  const found: number[] = [];
  let fence: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (fence !== null) {
      const t = lines[i].trim();
      if (t.length >= fence.length && t === fence[0].repeat(t.length)) fence = null;
    } else if (open) {
      fence = open[1];
    } else if (/^( {4}|\t)\s*\S/.test(lines[i]) && i > 0 && lines[i - 1].trim() === "") {
      found.push(i + 1);
    }
  }
  return found;
}

export interface ConsoleStep {
  command: string;
  /** The output lines shown under the command. */
  expected: string[];
}

/** Splits a `console` block into `$ command` lines and the output shown below each. */
export function consoleSteps(code: string): ConsoleStep[] {
  const steps: ConsoleStep[] = [];
  for (const line of code.split("\n")) {
    if (line.startsWith("$ ")) steps.push({ command: line.slice(2), expected: [] });
    else if (steps.length > 0 && line.trim() !== "") steps[steps.length - 1].expected.push(line);
  }
  return steps;
}

const NUMBER = /-?\d+(?:\.\d+)?(?:e[-+]?\d+)?/g;
const BACKEND = /\b(?:native|wasm|ref)\b/g;

/**
 * A pattern for one shown output line: numbers and backend names may differ
 * (timings, the machine's backend), and runs of spaces may be any whitespace;
 * everything else must be as shown.
 */
export function outputLinePattern(shown: string): RegExp {
  const placeholders: string[] = [];
  const hold = (re: string) => `\u0000${placeholders.push(re) - 1}\u0000`;
  const held = shown
    .trim()
    .replace(NUMBER, () => hold("-?\\d+(?:\\.\\d+)?(?:e[-+]?\\d+)?"))
    .replace(BACKEND, () => hold("(?:native|wasm|ref)"));
  const escaped = held.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\s+/g, "\\s+");
  return new RegExp(`^${escaped.replace(/\u0000(\d+)\u0000/g, (_, k: string) => placeholders[Number(k)])}$`);
}

/**
 * The first shown line that the actual output does not contain, in order
 * (null when all are there). `ls` prints one name per line into a pipe but
 * columns on a terminal, so a shown line may also match several consecutive
 * output lines joined by spaces.
 */
export function missingOutputLine(shown: string[], actual: string): string | null {
  const lines = actual.split("\n").map((l) => l.trim());
  let from = 0;
  for (const line of shown) {
    const pattern = outputLinePattern(line);
    const maxWindow = line.trim().split(/\s+/).length;
    let next = -1;
    for (let i = from; i < lines.length && next === -1; i++) {
      for (let w = 1; w <= maxWindow && i + w <= lines.length && next === -1; w++) {
        if (pattern.test(lines.slice(i, i + w).join(" "))) next = i + w;
      }
    }
    if (next === -1) return line;
    from = next;
  }
  return null;
}

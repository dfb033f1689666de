/**
 * Nothing in a tokenizer folder is executed: a chat_template is rendered by
 * @huggingface/jinja, which has no access to the process. Each hostile
 * template below tries to reach `process`, `require`, `globalThis` or the
 * Function constructor (the JavaScript and Python sandbox escapes); each must
 * either fail as a UserError or render text, and none may run code: the
 * sentinel global stays unset and no file appears.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { UserError } from "../../src/errors.js";
import { renderChatQuery } from "../../src/tokenize/chat-template.js";
import { loadTokenizer } from "../../src/tokenize/tokenizer.js";
import { fixture, tempDir } from "../helpers.js";

const marker = join(tempDir(), "pwned");
const js = (code: string): string => JSON.stringify(code);
const SET_SENTINEL = "globalThis.__rrhfTemplateEscape = 1";
const WRITE_FILE = `process.getBuiltinModule('fs').writeFileSync(${js(marker)}, 'x')`;

const HOSTILE_TEMPLATES: Record<string, string> = {
  "string constructor chain": `{{ ''.constructor.constructor(${js(SET_SENTINEL)})() }}`,
  "array constructor chain": `{{ messages.constructor.constructor(${js(WRITE_FILE)})() }}`,
  "message object constructor chain": `{{ messages[0].constructor.constructor(${js(SET_SENTINEL)})() }}`,
  "__proto__ walk": `{{ messages.__proto__.constructor.constructor(${js(SET_SENTINEL)})() }}`,
  "function constructor through a filter": `{{ (messages|first).content.constructor.constructor(${js(SET_SENTINEL)})() }}`,
  "namespace constructor": `{% set ns = namespace(a=1) %}{{ ns.constructor.constructor(${js(SET_SENTINEL)})() }}`,
  "range constructor": `{{ range.constructor(${js(SET_SENTINEL)})() }}`,
  "bare process": "{{ process.exit(3) }}",
  "bare require": "{{ require('fs').writeFileSync('x', 'y') }}",
  globalThis: `{{ globalThis.process.getBuiltinModule('fs').writeFileSync(${js(marker)}, 'x') }}`,
  "python globals escape": "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
  "python subclasses escape": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
  "self reference": "{{ self.__init__.__globals__ }}",
  "set to the constructor and call": `{% set f = ''.constructor.constructor %}{{ f(${js(SET_SENTINEL)})() }}`,
  "toString override attempt": "{% set x = {'toString': 'p'} %}{{ x ~ messages }}",
};

test("chat templates cannot reach the process: every escape fails harmlessly", async () => {
  const tok = await loadTokenizer(fixture("models", "gpt2-tiny"));
  const g = globalThis as { __rrhfTemplateEscape?: number };
  delete g.__rrhfTemplateEscape;
  const exitCode = process.exitCode;
  for (const [name, source] of Object.entries(HOSTILE_TEMPLATES)) {
    let rendered: string | null = null;
    try {
      rendered = renderChatQuery(tok, "\n\nHuman: hi\n\nAssistant:", source).text;
    } catch (err) {
      assert.ok(err instanceof UserError, `${name}: expected a UserError, got ${String(err)}`);
      assert.match(err.message, /^chat_template: /, name);
    }
    assert.equal(g.__rrhfTemplateEscape, undefined, `${name}: template code ran (sentinel set); rendered ${String(rendered)}`);
    assert.equal(existsSync(marker), false, `${name}: template code wrote a file`);
    assert.equal(process.exitCode, exitCode, `${name}: template changed the exit code`);
    if (rendered !== null) assert.doesNotMatch(rendered, /function|\[native code\]|process/i, `${name}: rendered ${rendered}`);
  }
});

test("a normal template still renders (the sandbox test above could fail only on escapes)", async () => {
  const tok = await loadTokenizer(fixture("models", "gpt2-tiny"));
  const source = "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}";
  assert.equal(renderChatQuery(tok, "\n\nHuman: hi\n\nAssistant:", source).text, "<user>hi<assistant>");
});

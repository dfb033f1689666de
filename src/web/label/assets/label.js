// The ranking page's script (plain browser JavaScript, inlined by page.ts). It keeps one query's ranking, shows it,
// and sends every change to the server at once; the server's answer is the only proof that a change is saved.
(() => {
  const token = new URLSearchParams(window.location.search).get("token");
  const headers = token === null ? {} : { Authorization: `Bearer ${token}` };
  const $ = (id) => document.getElementById(id);

  /** The query on screen: its record, the order best first, ties with the one above, and how many were picked by number. */
  const view = { total: 0, labelled: 0, index: 0, item: null, order: [], ties: [], picked: 0, focus: 0 };
  /** Saves run one after another, in the order the changes were made. */
  let saving = Promise.resolve();

  async function api(method, path, body) {
    const init = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    const answer = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(answer.error ?? `HTTP ${res.status}`);
    return answer;
  }

  function setStatus(text, isError = false) {
    const status = $("status");
    status.textContent = text;
    status.classList.toggle("error", isError);
  }

  function showProgress(state) {
    view.total = state.total;
    view.labelled = state.labelled;
    $("progress").textContent = `${state.labelled} of ${state.total} labelled`;
    $("progress-bar").max = Math.max(1, state.total);
    $("progress-bar").value = state.labelled;
  }

  function renderQuery(item) {
    const box = $("query");
    box.replaceChildren();
    if (item.messages === null) {
      box.textContent = item.query;
      return;
    }
    for (const message of item.messages) {
      const row = document.createElement("div");
      row.className = "message";
      const role = document.createElement("span");
      role.className = "role";
      role.textContent = `${message.role}:`;
      row.append(role, document.createTextNode(message.content));
      box.append(row);
    }
  }

  function rankLabels() {
    let rank = 0;
    return view.order.map((_, position) => {
      if (position === 0 || !view.ties[position]) rank = position + 1;
      return rank;
    });
  }

  function responseRow(response, position, rank) {
    const item = view.item;
    const li = document.createElement("li");
    li.className = "response";
    li.classList.toggle("tied", view.ties[position]);
    li.classList.toggle("picked", position < view.picked);
    li.tabIndex = 0;
    li.draggable = true;
    li.dataset.response = String(response);
    li.dataset.position = String(position);
    li.setAttribute("aria-label", `rank ${rank}${view.ties[position] ? " (tied)" : ""}: response ${response + 1}`);
    const rankCell = document.createElement("div");
    rankCell.className = "rank";
    rankCell.textContent = view.ties[position] ? `=${rank}` : String(rank);
    const text = document.createElement("div");
    text.className = "text";
    const number = document.createElement("span");
    number.className = "number";
    number.textContent = String(response + 1);
    text.append(number, document.createTextNode(item.responses[response]));
    const side = document.createElement("div");
    side.className = "side";
    if (item.policyScores !== null) {
      const score = document.createElement("span");
      score.className = "policy-score";
      score.textContent = `policy ${Number(item.policyScores[response].toPrecision(4))}`;
      side.append(score);
    }
    if (position > 0) {
      const tie = document.createElement("button");
      tie.type = "button";
      tie.className = "tie-button";
      tie.tabIndex = -1;
      tie.textContent = view.ties[position] ? "untie" : "tie with above";
      tie.addEventListener("click", () => toggleTie(position));
      side.append(tie);
    }
    li.append(rankCell, text, side);
    addDragHandlers(li, position);
    return li;
  }

  function render() {
    const item = view.item;
    $("position").textContent = `${view.index + 1} of ${view.total}`;
    const badge = $("labelled-badge");
    badge.textContent = item.hasLabel ? "labelled" : "not labelled yet";
    badge.classList.toggle("done", item.hasLabel);
    const ranks = rankLabels();
    const rows = view.order.map((response, position) => responseRow(response, position, ranks[position]));
    $("responses").replaceChildren(...rows);
    rows[Math.min(view.focus, rows.length - 1)]?.focus();
  }

  async function load(index) {
    const item = await api("GET", `/api/items/${index}`);
    showProgress(item);
    view.index = index;
    view.item = item;
    const k = item.responses.length;
    view.order = item.ranking === null ? [...Array(k).keys()] : [...item.ranking.order];
    view.ties = item.ranking === null ? Array(k).fill(false) : [...item.ranking.ties];
    view.picked = 0;
    view.focus = 0;
    renderQuery(item);
    render();
    setStatus(item.hasLabel ? "This query is labelled; changes are saved as you make them." : "");
  }

  /** Sends the ranking on screen; resolves when the server has written it. */
  function save() {
    const index = view.index;
    const ranking = { order: [...view.order], ties: [...view.ties] };
    setStatus("saving...");
    saving = saving
      .then(() => api("PUT", `/api/items/${index}/label`, ranking))
      .then((state) => {
        showProgress(state);
        if (view.index === index) {
          view.item.hasLabel = true;
          $("labelled-badge").textContent = "labelled";
          $("labelled-badge").classList.add("done");
        }
        setStatus(`Saved (query ${index + 1}).`);
      })
      .catch((err) => setStatus(`Not saved: ${err.message}`, true));
    render();
    return saving;
  }

  /** Moves the response at `from` to `to`; ties stay with the responses they belong to, the moved one ties with nothing. */
  function relocate(from, to) {
    const [response] = view.order.splice(from, 1);
    view.order.splice(to, 0, response);
    view.ties.splice(from, 1);
    view.ties.splice(to, 0, false);
    view.ties[0] = false;
  }

  function move(from, to) {
    if (to < 0 || to >= view.order.length || from === to) return;
    relocate(from, to);
    view.focus = to;
    void save();
  }

  function toggleTie(position) {
    if (position <= 0) return;
    view.ties[position] = !view.ties[position];
    view.focus = position;
    void save();
  }

  /** Number key N: response N goes right below those already picked. */
  function pick(response) {
    if (response >= view.order.length) return;
    const from = view.order.indexOf(response);
    if (from < view.picked) return;
    relocate(from, view.picked);
    view.picked += 1;
    // With one response left its place is decided too.
    if (view.picked === view.order.length - 1) view.picked = view.order.length;
    view.focus = Math.min(view.picked, view.order.length - 1);
    void save();
  }

  async function go(index) {
    if (index < 0 || index >= view.total) {
      setStatus(index < 0 ? "This is the first query." : "This is the last query.");
      return;
    }
    await saving;
    await load(index);
  }

  let dragFrom = -1;
  function addDragHandlers(li, position) {
    li.addEventListener("dragstart", (event) => {
      dragFrom = position;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", String(position));
    });
    li.addEventListener("dragover", (event) => {
      event.preventDefault();
      li.classList.add("drop-target");
    });
    li.addEventListener("dragleave", () => li.classList.remove("drop-target"));
    li.addEventListener("drop", (event) => {
      event.preventDefault();
      li.classList.remove("drop-target");
      const from = dragFrom >= 0 ? dragFrom : Number(event.dataTransfer.getData("text/plain"));
      dragFrom = -1;
      move(from, position);
    });
  }

  const keyActions = {
    ArrowUp: (e) => (e.shiftKey ? move(view.focus, view.focus - 1) : focusAt(view.focus - 1)),
    ArrowDown: (e) => (e.shiftKey ? move(view.focus, view.focus + 1) : focusAt(view.focus + 1)),
    k: () => focusAt(view.focus - 1),
    j: () => focusAt(view.focus + 1),
    t: () => toggleTie(view.focus),
    Enter: () => save().then(() => go(view.index + 1)),
    n: () => go(view.index + 1),
    ArrowRight: () => go(view.index + 1),
    p: () => go(view.index - 1),
    ArrowLeft: () => go(view.index - 1),
    Escape: () => {
      view.picked = 0;
      render();
    },
    u: () => clearLabel(),
  };

  function focusAt(position) {
    view.focus = Math.max(0, Math.min(view.order.length - 1, position));
    render();
  }

  async function clearLabel() {
    await saving;
    try {
      showProgress(await api("DELETE", `/api/items/${view.index}/label`));
      await load(view.index);
      setStatus("Label cleared.");
    } catch (err) {
      setStatus(`Not cleared: ${err.message}`, true);
    }
  }

  document.addEventListener("keydown", (event) => {
    if (view.item === null || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target instanceof HTMLButtonElement && (event.key === "Enter" || event.key === " ")) return;
    if (/^[1-9]$/.test(event.key)) {
      event.preventDefault();
      pick(Number(event.key) - 1);
      return;
    }
    const action = keyActions[event.key];
    if (action === undefined) return;
    event.preventDefault();
    Promise.resolve(action(event)).catch((err) => setStatus(err.message, true));
  });

  $("back").addEventListener("click", () => go(view.index - 1));
  $("skip").addEventListener("click", () => go(view.index + 1));
  $("save-next").addEventListener("click", () => save().then(() => go(view.index + 1)));
  $("clear").addEventListener("click", () => clearLabel());
  document.addEventListener("focusin", (event) => {
    const position = event.target?.dataset?.position;
    if (position !== undefined) view.focus = Number(position);
  });

  api("GET", "/api/state")
    .then((state) => {
      showProgress(state);
      const start = Math.min(state.first, state.total - 1);
      if (state.first >= state.total) setStatus(`All ${state.total} queries are labelled.`);
      return load(start).then(() => {
        if (state.first >= state.total) setStatus(`All ${state.total} queries are labelled.`);
      });
    })
    .catch((err) => setStatus(`Cannot load: ${err.message}`, true));
})();

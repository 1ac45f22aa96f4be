// The sandbox console: every click is sent to the console server, which forwards it to the
// Slack emulator's driver (delivered to Accessbot as Slack delivers it). No framework.
"use strict";

const POLL_MS = 1000;
const state = { user: null, viewKey: null, dms: null, home: null, tab: "messages", channels: null, eventsAfter: 0, tailnet: null };

const $ = (sel, root = document) => root.querySelector(sel);

async function call(path, body) {
  const response = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  try {
    return await response.json();
  } catch (e) {
    return { error: `the console answered ${response.status}` };
  }
}

function notice(text) {
  const el = $("#notice");
  el.textContent = text;
  clearTimeout(notice.timer);
  notice.timer = setTimeout(() => { el.textContent = ""; }, 6000);
}

async function act(action, body) {
  const answer = await call(`/api/slack/${encodeURIComponent(state.user)}/${action}`, body);
  if (answer.error) {
    if (!$("#modal").hidden) {
      const box = $("#modal-error");
      box.textContent = answer.error;
      box.hidden = false;
    } else {
      notice(answer.error);
    }
  }
  await refresh();
  return answer;
}

// -- Slack: modal, DMs, channels ------------------------------------------------------------

function typedValues(root) {
  const kept = {};
  root.querySelectorAll("input[type=text][name], textarea[name]").forEach((el) => { kept[el.name] = el.value; });
  return kept;
}

function showView(view) {
  const modal = $("#modal");
  if (!view) {
    modal.hidden = true;
    state.viewKey = null;
    $("#modal-view").innerHTML = "";
    return;
  }
  if (view.key === state.viewKey) return;
  const kept = typedValues($("#modal-view"));
  state.viewKey = view.key;
  $("#modal-view").innerHTML = view.html;
  $("#modal-error").hidden = true;
  $("#modal-view").querySelectorAll("input[type=text][name], textarea[name]").forEach((el) => {
    if (!el.value && kept[el.name]) el.value = kept[el.name];
  });
  modal.hidden = false;
}

function showChannels(channels) {
  const used = channels.filter((c) => !c.empty);
  const html = used.length === 0 ? "" : used.map((c) =>
    `<h2>#${escapeHtml(c.name)}</h2><div class="messages channel" data-channel-id="${escapeHtml(c.id)}">${c.html}</div>`
  ).join("");
  if (html !== state.channels) {
    state.channels = html;
    $("#channels").innerHTML = html;
  }
}

function escapeHtml(text) {
  const div = document.createElement("div");
  div.textContent = text;
  return div.innerHTML;
}

// The App Home tab: drawn from the view Accessbot published last (views.publish), as
// Slack shows it; re-drawn when a new one is published (a new view hash).
function showHome(home) {
  const key = home ? home.key : "";
  if (key === state.home) return;
  state.home = key;
  $("#home").innerHTML = home ? home.html
    : '<p class="muted">Opening the Home tab… Accessbot publishes it when it is first opened.</p>';
}

function showTab(tab) {
  state.tab = tab;
  for (const name of ["messages", "home"]) {
    $(`#tab-${name}`).setAttribute("aria-selected", String(name === tab));
  }
  $("#dms").hidden = tab !== "messages";
  $("#home").hidden = tab !== "home";
}

// Opening the Home tab is what makes Slack send app_home_opened (each time it is opened).
async function openHome() {
  showTab("home");
  await act("open-home", { tab: "home" });
}

async function refresh() {
  if (!state.user) return;
  const user = state.user;
  const answer = await call(`/api/slack/${encodeURIComponent(user)}`);
  if (answer.error || user !== state.user) return;
  showView(answer.view);
  if (answer.dms !== state.dms) {
    state.dms = answer.dms;
    $("#dms").innerHTML = answer.dms;
  }
  showHome(answer.home);
  showChannels(answer.channels);
}

function confirmed(el) {
  if (!el.dataset.confirmTitle) return true;
  return window.confirm(`${el.dataset.confirmTitle}\n\n${el.dataset.confirmText || ""}`);
}

function formValues(form) {
  const values = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    if (el.type === "radio") {
      if (el.checked) values[el.name] = el.value;
    } else if (el.type === "checkbox") {
      values[el.name] = values[el.name] || [];
      if (el.checked) values[el.name].push(el.value);
    } else if (el.tagName === "SELECT" && el.multiple) {
      values[el.name] = [...el.selectedOptions].map((o) => o.value);
    } else if (el.value !== "") {
      if (el.type === "hidden" && el.closest("[data-multiple=true]")) {
        values[el.name] = [...(values[el.name] || []), el.value];
      } else {
        values[el.name] = el.value;
      }
    }
  }
  return values;
}

let typing = null;
// Searches run one after another and only the newest waits its turn: the emulator then
// remembers the options shown last, which are the ones a person picks from.
let searching = Promise.resolve();
let searchSeq = 0;
function search(input) {
  const mine = ++searchSeq;
  searching = searching.then(() => (mine === searchSeq ? runSearch(input, mine) : undefined));
  return searching;
}

async function runSearch(input, mine) {
  const actionId = input.dataset.actionId;
  const list = input.parentElement.querySelector(`ul.bk-options[data-action-id="${CSS.escape(actionId)}"]`);
  const min = Number(input.dataset.minQueryLength || 3);
  if (input.value.length < min) {
    if (list) list.innerHTML = `<li class="muted">Type at least ${min} characters</li>`;
    return;
  }
  const answer = await call(`/api/slack/${encodeURIComponent(state.user)}/type`, { action_id: actionId, query: input.value });
  if (list && mine === searchSeq) {
    list.innerHTML = answer.error ? `<li class="bk-error">${escapeHtml(answer.error)}</li>` : answer.html;
  }
}

document.addEventListener("click", async (event) => {
  const target = event.target.closest("button, li.bk-option, #request-access");
  if (!target) return;
  if (target.id === "tab-home") {
    await openHome();
  } else if (target.id === "tab-messages") {
    showTab("messages");
  } else if (target.id === "play-demo") {
    await playDemo();
  } else if (target.id === "request-access") {
    await act("shortcut", { callback_id: document.body.dataset.shortcut });
  } else if (target.dataset.fault) {
    const answer = await call("/api/faults", { target: target.dataset.fault, kind: target.dataset.kind });
    notice(answer.error || `Armed: ${answer.armed}`);
  } else if (target.matches("li.bk-option")) {
    clearTimeout(typing); // a search still waiting would replace the options chosen from
    searchSeq += 1;
    const list = target.closest("ul.bk-options");
    const actionId = list.dataset.actionId;
    const form = target.closest("form");
    const hidden = form.querySelector(`input[type=hidden][name="${CSS.escape(actionId)}"]`);
    const input = form.querySelector(`input.bk-external[data-action-id="${CSS.escape(actionId)}"]`);
    if (hidden) hidden.value = target.dataset.value;
    if (input) input.value = target.textContent.trim();
    list.innerHTML = "";
  } else if (target.classList.contains("bk-close")) {
    await act("close", {});
  } else if (target.classList.contains("bk-button") && target.closest("#modal")) {
    if (confirmed(target)) await act("view-button", { action_id: target.dataset.actionId });
  } else if (target.classList.contains("bk-button") && target.closest("#home")) {
    if (!confirmed(target)) return;
    await act("home-button", { action_id: target.dataset.actionId, block_id: target.dataset.blockId || undefined });
  } else if (target.classList.contains("bk-button") && target.closest("article.msg")) {
    const message = target.closest("article.msg");
    if (!confirmed(target)) return;
    await act("button", {
      channel_id: message.dataset.channel,
      ts: message.dataset.ts,
      action_id: target.dataset.actionId,
      value: target.dataset.value,
    });
  }
});

document.addEventListener("change", async (event) => {
  const el = event.target;
  if (el.id === "who") return choose(el.value);
  if (!el.closest("#modal")) return;
  const holder = el.closest("[data-dispatch-action=true]") || (el.dataset.dispatchAction === "true" ? el : null);
  if (!holder || !el.name) return;
  await act("select", { action_id: el.name, value: el.value });
});

document.addEventListener("focusin", (event) => {
  const el = event.target;
  if (el.classList && el.classList.contains("bk-external") && Number(el.dataset.minQueryLength || 3) === 0) search(el);
});

document.addEventListener("input", (event) => {
  const el = event.target;
  if (!el.classList.contains("bk-external")) return;
  clearTimeout(typing);
  typing = setTimeout(() => search(el), 250);
});

document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form.bk-view");
  if (!form) return;
  event.preventDefault();
  if (!form.closest("#modal")) return; // the Home tab is not submitted
  $("#modal-error").hidden = true;
  await act("submit", { values: formValues(form) });
});

// -- Tailnet (server-sent events) and its countdowns -----------------------------------------

let tailnetSource = null;
function followTailnet(owner) {
  const pane = $("#tailnet");
  if (!pane) return;
  if (tailnetSource) tailnetSource.close();
  tailnetSource = new EventSource(`/api/tailnet/stream?owner=${encodeURIComponent(owner || "")}`);
  tailnetSource.onmessage = (message) => { pane.innerHTML = message.data; tick(); };
}

function tick() {
  const now = Date.now();
  document.querySelectorAll(".countdown[data-expiry]").forEach((el) => {
    const left = Math.round((Date.parse(el.dataset.expiry) - now) / 1000);
    if (Number.isNaN(left)) return;
    if (left <= 0) { el.textContent = "now (expired)"; return; }
    const h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    el.textContent = `in ${h ? h + "h " : ""}${m}m ${String(s).padStart(2, "0")}s`;
  });
}

// -- Events (ACCESS stream) -----------------------------------------------------------------

async function pollEvents() {
  const answer = await call(`/api/events?after=${state.eventsAfter}`);
  const pane = $("#events");
  // the feed's state now: a problem shows while it lasts and goes once reading works again
  const problem = $("#events-error");
  problem.textContent = answer.error || "";
  problem.hidden = !answer.error;
  for (const item of answer.events || []) {
    state.eventsAfter = Math.max(state.eventsAfter, item.n);
    const e = item.event;
    const details = document.createElement("details");
    details.className = "event";
    details.dataset.search = JSON.stringify(e);
    const kind = String(e.type || "").split(".").slice(-2).join(".");
    details.innerHTML = `<summary><time>${escapeHtml(String(e.time || "").slice(11, 19))}</time> <b>${escapeHtml(kind)}</b> <a href="#" class="request-id">${escapeHtml(e.subject || "")}</a></summary><pre>${escapeHtml(JSON.stringify(e, null, 2))}</pre>`;
    pane.prepend(details);
  }
  filterEvents();
  while (pane.querySelectorAll("details.event").length > 500) pane.querySelector("details.event:last-of-type").remove();
}

function filterEvents() {
  const wanted = $("#event-filter").value.trim();
  document.querySelectorAll("#events details.event").forEach((el) => {
    el.hidden = wanted !== "" && !el.dataset.search.includes(wanted);
  });
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a.request-id");
  if (!link) return;
  event.preventDefault();
  $("#event-filter").value = link.textContent;
  filterEvents();
});

// -- Dead letters ----------------------------------------------------------------------------

async function pollDeadLetters() {
  const answer = await call("/api/deadletters");
  let html;
  if (answer.error) {
    html = `<p class="muted">${escapeHtml(answer.error)}</p>`;
  } else if (!answer.records.length) {
    html = '<p class="muted">None.</p>';
  } else {
    html = "<ul class=\"deadletters\">" + answer.records.map((r) =>
      `<li><b>${escapeHtml(r.consumer)}</b> gave up on <code>${escapeHtml(r.subject)}</code> after ${r.deliveries} deliveries` +
      ` (request <a href="#" class="request-id">${escapeHtml(r.request_id || "")}</a>): ${escapeHtml(r.last_error)}</li>`
    ).join("") + "</ul>" + (answer.more ? `<p class="muted">${answer.more} more not shown</p>` : "");
  }
  const pane = $("#deadletters");
  if (pane.innerHTML !== html) pane.innerHTML = html;
}

// -- Play the demo: the console server clicks through the scripted request ------------------

async function playDemo() {
  const who = $("#who");
  if (who.value !== "U_DANA" && [...who.options].some((o) => o.value === "U_DANA")) {
    who.value = "U_DANA";
    choose("U_DANA");
  }
  let answer = await call("/api/demo", {});
  while (answer.running) {
    if (answer.steps.length) $("#notice").textContent = answer.steps[answer.steps.length - 1];
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    answer = await call("/api/demo");
  }
  if (answer.steps.length) notice(answer.steps[answer.steps.length - 1]);
  await refresh();
}

// -- start -----------------------------------------------------------------------------------

function choose(userId) {
  state.user = userId;
  state.viewKey = state.dms = state.home = state.channels = null;
  const url = new URL(window.location);
  url.searchParams.set("as", userId);
  window.history.replaceState(null, "", url);
  const option = $("#who").selectedOptions[0];
  const email = option ? (option.textContent.match(/<([^>]+)>/) || [])[1] : "";
  followTailnet(email);
  if (state.tab === "home") openHome(); else refresh();
}

document.addEventListener("DOMContentLoaded", () => {
  $("#event-filter").addEventListener("input", filterEvents);
  choose($("#who").value);
  setInterval(refresh, POLL_MS);
  setInterval(pollEvents, POLL_MS);
  setInterval(tick, 1000);
  setInterval(pollDeadLetters, 3 * POLL_MS);
  pollDeadLetters();
  pollEvents();
});

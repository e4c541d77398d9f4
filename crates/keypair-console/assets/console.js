// keypaird console: signs Tencent Cloud API 3.0 calls (TC3-HMAC-SHA256) in the browser
// with WebCrypto and shows every answer as the API gives it. No framework, no build step,
// nothing from another origin: the Content-Security-Policy allows this origin only.
"use strict";

const PRODUCTS = {
  cvm: { service: "cvm", version: "2017-03-12", name: "CVM", modify: true },
  lighthouse: { service: "lighthouse", version: "2020-03-24", name: "Lighthouse", modify: false },
};
const STORE = window.sessionStorage;
const state = { product: "cvm", offset: 0, total: 0, filters: [], selected: null, created: null };

const $ = (id) => document.getElementById(id);
const enc = new TextEncoder();

// ---- signing -------------------------------------------------------------------------

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function sha256(text) {
  return hex(await crypto.subtle.digest("SHA-256", enc.encode(text)));
}

async function hmac(key, text) {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return crypto.subtle.sign("HMAC", k, enc.encode(text));
}

/** The TC3 Authorization header of a POST of `body` to this origin's `/`. */
async function authorization(creds, service, timestamp, body, contentType) {
  const date = new Date(timestamp * 1000).toISOString().slice(0, 10);
  const canonical = ["POST", "/", "", `content-type:${contentType}\nhost:${location.host}\n`, "content-type;host",
    await sha256(body)].join("\n");
  const scope = `${date}/${service}/tc3_request`;
  const toSign = ["TC3-HMAC-SHA256", String(timestamp), scope, await sha256(canonical)].join("\n");
  let key = await hmac(enc.encode("TC3" + creds.secretKey), date);
  key = await hmac(key, service);
  key = await hmac(key, "tc3_request");
  const signature = hex(await hmac(key, toSign));
  return `TC3-HMAC-SHA256 Credential=${creds.secretId}/${scope}, SignedHeaders=content-type;host, Signature=${signature}`;
}

function credentials() {
  const raw = STORE.getItem("keypaird-credentials");
  return raw ? JSON.parse(raw) : null;
}

/** Calls `action` of the current product; resolves to the API's `Response`. */
async function api(action, params) {
  const creds = credentials();
  const product = PRODUCTS[state.product];
  const body = JSON.stringify(params);
  const contentType = "application/json; charset=utf-8";
  const timestamp = Math.floor(Date.now() / 1000);
  const res = await fetch("/", {
    method: "POST",
    headers: {
      "Content-Type": contentType,
      "X-TC-Action": action,
      "X-TC-Version": product.version,
      "X-TC-Timestamp": String(timestamp),
      "X-TC-Region": creds.region,
      "X-TC-Language": "en-US",
      Authorization: await authorization(creds, product.service, timestamp, body, contentType),
    },
    body,
  });
  const answer = await res.json();
  if (!answer.Response) throw { Code: `HTTP ${res.status}`, Message: JSON.stringify(answer), RequestId: "" };
  if (answer.Response.Error) throw { ...answer.Response.Error, RequestId: answer.Response.RequestId };
  return answer.Response;
}

// ---- feedback ------------------------------------------------------------------------

function say(text) {
  $("error").hidden = true;
  $("status").textContent = text;
}

function fail(e) {
  $("status").textContent = "";
  $("error-code").textContent = e.Code || "Error";
  $("error-message").textContent = e.Message || String(e);
  $("error-request-id").textContent = e.RequestId || "";
  $("error").hidden = false;
}

/** Runs `work`, showing its error as the API gave it. */
async function attempt(work) {
  try {
    await work();
  } catch (e) {
    fail(e);
  }
}

// ---- views ---------------------------------------------------------------------------

function show(view) {
  for (const section of document.querySelectorAll("main > section")) section.hidden = section.id !== `view-${view}`;
  for (const b of document.querySelectorAll("button.view")) {
    if (b.dataset.view === view) b.setAttribute("aria-current", "page");
    else b.removeAttribute("aria-current");
  }
  const heading = document.querySelector(`#view-${view} h2`);
  if (heading) {
    heading.tabIndex = -1;
    heading.focus();
  }
}

function setProduct(product) {
  state.product = product;
  state.offset = 0;
  state.filters = [];
  $("filter-form").reset();
  document.body.dataset.product = product;
  for (const b of document.querySelectorAll("button.product")) b.setAttribute("aria-pressed", String(b.dataset.product === product));
  document.title = `${PRODUCTS[product].name} key pairs · keypaird console`;
}

function words(text) {
  return text.split(/[\s,]+/).filter(Boolean);
}

function tagsOf(key, value) {
  return key ? [{ Key: key, Value: value }] : [];
}

function tagText(tags) {
  return (tags || []).map((t) => `${t.Key}=${t.Value}`).join(", ");
}

function boundText(k) {
  if (k.AssociatedInstanceSet) return k.AssociatedInstanceSet.map((i) => (i.Username ? `${i.InstanceId} (${i.Username})` : i.InstanceId)).join(", ");
  return (k.AssociatedInstanceIds || []).join(", ");
}

// ---- the list ------------------------------------------------------------------------

function readFilters() {
  const filters = [];
  const add = (Name, value) => value && filters.push({ Name, Values: [value] });
  add("key-name", $("filter-name").value.trim());
  if (state.product === "cvm") add("project-id", $("filter-project").value.trim());
  else add("key-id", $("filter-key-id").value.trim());
  const tagKey = $("filter-tag-key").value.trim();
  const tagValue = $("filter-tag-value").value.trim();
  if (tagKey && tagValue) add(`tag:${tagKey}`, tagValue);
  else if (tagKey) add("tag-key", tagKey);
  else add("tag-value", tagValue);
  return filters;
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function renderRows(keyPairs) {
  const body = $("key-rows");
  body.replaceChildren();
  for (const k of keyPairs) {
    const row = document.createElement("tr");
    const open = document.createElement("button");
    open.type = "button";
    open.className = "link";
    open.textContent = k.KeyId;
    open.addEventListener("click", () => attempt(() => openDetail(k.KeyId)));
    cell(row, "").appendChild(open);
    cell(row, k.KeyName);
    cell(row, k.ProjectId === undefined ? "" : String(k.ProjectId), "cvm-only");
    cell(row, k.CreatedTime || "");
    cell(row, boundText(k));
    cell(row, tagText(k.Tags));
    body.appendChild(row);
  }
}

async function loadList() {
  const limit = Number($("page-size").value);
  const params = { Offset: state.offset, Limit: limit };
  if (state.filters.length) params.Filters = state.filters;
  const page = await api("DescribeKeyPairs", params);
  state.total = page.TotalCount;
  renderRows(page.KeyPairSet);
  const first = page.KeyPairSet.length ? state.offset + 1 : 0;
  const last = state.offset + page.KeyPairSet.length;
  $("page-caption").textContent = `${PRODUCTS[state.product].name} key pairs ${first}–${last} of ${page.TotalCount}`;
  $("page-prev").disabled = state.offset === 0;
  $("page-next").disabled = last >= page.TotalCount;
  say(`${page.TotalCount} key pairs (RequestId ${page.RequestId})`);
}

async function listView() {
  show("list");
  await loadList();
}

// ---- one key pair --------------------------------------------------------------------

async function openDetail(keyId) {
  const page = await api("DescribeKeyPairs", { KeyIds: [keyId] });
  const k = page.KeyPairSet[0];
  if (!k) throw { Code: "NotFound", Message: `${keyId} is not in the list any more`, RequestId: page.RequestId };
  state.selected = k;
  const fields = $("detail-fields");
  fields.replaceChildren();
  const rows = [["Key id", k.KeyId], ["Name", k.KeyName], ["Created", k.CreatedTime || ""], ["Bound instances", boundText(k) || "none"], ["Tags", tagText(k.Tags) || "none"]];
  if (state.product === "cvm") rows.splice(2, 0, ["Project", String(k.ProjectId)], ["Description", k.Description || ""]);
  for (const [name, value] of rows) {
    const dt = document.createElement("dt");
    dt.textContent = name;
    const dd = document.createElement("dd");
    dd.textContent = value;
    dd.id = `detail-${name.toLowerCase().replace(/ /g, "-")}`;
    fields.append(dt, dd);
  }
  $("detail-title").textContent = `Key pair ${k.KeyName}`;
  $("detail-public-key").value = k.PublicKey;
  $("modify-name").value = k.KeyName;
  $("modify-description").value = k.Description || "";
  show("detail");
}

async function modify() {
  const k = state.selected;
  const params = { KeyId: k.KeyId, KeyName: $("modify-name").value.trim(), Description: $("modify-description").value };
  const answer = await api("ModifyKeyPairAttribute", params);
  await openDetail(k.KeyId);
  say(`Saved ${k.KeyId} (RequestId ${answer.RequestId})`);
}

function bindParams() {
  const params = { KeyIds: [state.selected.KeyId], InstanceIds: words($("bind-instances").value) };
  if (state.product === "cvm") params.ForceStop = $("bind-force-stop").checked;
  const username = $("bind-username").value.trim();
  if (state.product === "lighthouse" && username) params.Username = username;
  return params;
}

async function bind(action, done) {
  const answer = await api(action, bindParams());
  await openDetail(state.selected.KeyId);
  say(`${done} (RequestId ${answer.RequestId})`);
}

async function remove() {
  const k = state.selected;
  if (!window.confirm(`Delete ${k.KeyName} (${k.KeyId})? This cannot be undone.`)) return;
  const answer = await api("DeleteKeyPairs", { KeyIds: [k.KeyId] });
  state.selected = null;
  await listView();
  say(`Deleted ${k.KeyId} (RequestId ${answer.RequestId})`);
}

// ---- create and import ---------------------------------------------------------------

function withTagsAndProject(params, prefix) {
  const tags = tagsOf($(`${prefix}-tag-key`).value.trim(), $(`${prefix}-tag-value`).value.trim());
  if (state.product === "cvm") {
    params.ProjectId = Number($(`${prefix}-project`).value || 0);
    if (tags.length) params.TagSpecification = [{ ResourceType: "keypair", Tags: tags }];
  } else if (tags.length) {
    params.Tags = tags;
  }
  return params;
}

async function create() {
  const answer = await api("CreateKeyPair", withTagsAndProject({ KeyName: $("create-name").value.trim() }, "create"));
  const k = answer.KeyPair;
  state.created = k;
  $("create-form").hidden = true;
  $("created").hidden = false;
  $("created-id").textContent = `${k.KeyName} (${k.KeyId})`;
  $("created-private-key").value = k.PrivateKey;
  $("download-private-key").focus();
  say(`Created ${k.KeyId} (RequestId ${answer.RequestId}). Download its private key now.`);
}

function downloadPrivateKey() {
  const k = state.created;
  saveText(k.PrivateKey, `${k.KeyId}.pem`, "application/x-pem-file");
}

function createdDone() {
  state.created = null;
  $("created-private-key").value = "";
  $("created").hidden = true;
  $("create-form").hidden = false;
  $("create-form").reset();
  return listView();
}

async function importKey() {
  const params = withTagsAndProject({ KeyName: $("import-name").value.trim(), PublicKey: $("import-public-key").value.trim() }, "import");
  const answer = await api("ImportKeyPair", params);
  $("import-form").reset();
  await openDetail(answer.KeyId);
  say(`Imported ${answer.KeyId} (RequestId ${answer.RequestId})`);
}

async function readImportFile() {
  const file = $("import-file").files[0];
  if (file) $("import-public-key").value = (await file.text()).trim();
}

// ---- admin ---------------------------------------------------------------------------

async function admin(method, path, body) {
  const headers = { Authorization: `Bearer ${$("admin-token").value}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(`/_keypaird/${path}`, { method, headers, body: body === undefined ? undefined : body });
  const text = await res.text();
  if (!res.ok) {
    let message = text;
    try { message = JSON.parse(text).Error || text; } catch (_) { /* not JSON: shown as it is */ }
    throw { Code: `Admin API ${res.status}`, Message: message, RequestId: "" };
  }
  return text;
}

/** Saves `text` as a download named `name`: built in the browser, never sent anywhere. */
function saveText(text, name, type) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], { type }));
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  // The download has its own copy by then; the blob's URL need not outlive a minute.
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
}

async function listFaults() {
  const rules = JSON.parse(await admin("GET", "faults")).Rules;
  $("faults").textContent = rules.length ? rules.map((r) => JSON.stringify(r)).join("\n") : "No rules.";
}

const ADMIN_ACTIONS = {
  "admin-reset": async () => {
    if (!window.confirm("Remove every key pair of every account on this server? This cannot be undone.")) return;
    say(`Removed ${JSON.parse(await admin("POST", "reset")).Removed} key pairs`);
  },
  "admin-snapshot": async () => saveText(await admin("GET", "snapshot"), "keypaird-snapshot.ndjson", "application/x-ndjson"),
  "faults-list": listFaults,
  "faults-clear": async () => { await admin("DELETE", "faults"); await listFaults(); },
  "journal-start": async () => { await admin("POST", "journal/start"); say("Recording the journal"); },
  "journal-stop": async () => { await admin("POST", "journal/stop"); say("Stopped recording"); },
  "journal-download": async () => saveText(await admin("GET", "journal"), "keypaird-journal.jsonl", "application/jsonl"),
};

async function addFault() {
  const rule = { Action: $("fault-action").value.trim(), Error: { Code: $("fault-code").value.trim() }, Times: Number($("fault-times").value || 1) };
  const id = JSON.parse(await admin("POST", "faults", JSON.stringify(rule))).Id;
  say(`Added fault rule ${id}`);
  await listFaults();
}

async function restore() {
  const file = $("admin-restore-file").files[0];
  if (!file) return;
  const answer = JSON.parse(await admin("POST", "restore", await file.text()));
  say(`Restored: ${answer.Loaded} loaded, ${answer.Present} already present`);
}

// ---- sign-in and wiring --------------------------------------------------------------

async function signIn() {
  const creds = { secretId: $("secret-id").value.trim(), secretKey: $("secret-key").value, region: $("region").value.trim() };
  STORE.setItem("keypaird-credentials", JSON.stringify(creds));
  $("secret-key").value = "";
  try {
    await listView();
    $("views").hidden = false;
  } catch (e) {
    STORE.removeItem("keypaird-credentials");
    show("signin");
    fail(e);
  }
}

function signOut() {
  STORE.removeItem("keypaird-credentials");
  $("views").hidden = true;
  show("signin");
  say("Signed out");
}

function onSubmit(id, work) {
  $(id).addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(work);
  });
}

function onClick(id, work) {
  $(id).addEventListener("click", () => attempt(work));
}

function wire() {
  onSubmit("signin-form", signIn);
  onSubmit("filter-form", () => { state.filters = readFilters(); state.offset = 0; return loadList(); });
  onSubmit("modify-form", modify);
  onSubmit("bind-form", () => bind("AssociateInstancesKeyPairs", "Bound"));
  onSubmit("create-form", create);
  onSubmit("import-form", importKey);
  onSubmit("fault-form", addFault);
  onSubmit("admin-form", async () => {});
  onClick("unbind", () => bind("DisassociateInstancesKeyPairs", "Unbound"));
  onClick("delete", remove);
  onClick("back-to-list", listView);
  onClick("download-private-key", async () => downloadPrivateKey());
  onClick("created-done", createdDone);
  onClick("page-prev", () => { state.offset = Math.max(0, state.offset - Number($("page-size").value)); return loadList(); });
  onClick("page-next", () => { state.offset += Number($("page-size").value); return loadList(); });
  onClick("sign-out", async () => signOut());
  $("import-file").addEventListener("change", () => attempt(readImportFile));
  $("admin-restore-file").addEventListener("change", () => attempt(restore));
  for (const [id, work] of Object.entries(ADMIN_ACTIONS)) onClick(id, work);
  for (const b of document.querySelectorAll("button.product")) {
    b.addEventListener("click", () => attempt(async () => {
      setProduct(b.dataset.product);
      if (credentials()) await listView();
    }));
  }
  for (const b of document.querySelectorAll("button.view")) {
    b.addEventListener("click", () => attempt(async () => (b.dataset.view === "list" ? listView() : show(b.dataset.view))));
  }
}

function start() {
  wire();
  setProduct("cvm");
  const prefill = document.querySelector('meta[name="keypaird-prefill"]').content;
  if (prefill) {
    $("secret-id").value = prefill;
    $("secret-key").value = prefill;
  }
  if (credentials()) {
    $("views").hidden = false;
    attempt(listView);
  } else {
    show("signin");
  }
}

document.addEventListener("DOMContentLoaded", start);

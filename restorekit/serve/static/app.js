"use strict";
// The page: a list of images ("cards"), each sent as one job to the server's queue, polled
// until done; a finished one is shown in the comparison view and can be downloaded once
// (the server then deletes it). Nothing is loaded from anywhere but this server.

const $ = (id) => document.getElementById(id);
const cards = [];
let limit = 0; // the server's upload limit, in bytes
let shown = null; // the card in the viewer
let userPicked = false; // the user chose what to view: new results do not replace it
let polling = false;

const view = new CompareView({
  stage: "stage", canvas: "canvas", before: "img-before", after: "img-after", divider: "divider",
  range: "split", zoomLabel: "zoom-level", extras: ["label-before", "label-after"],
});

// ------------------------------------------------------------------------------------------
// settings

function readSettings() {
  const task = document.querySelector("input[name=task]:checked").value;
  const s = { task, fields: { task }, kernelFile: null, summary: "" };
  if (task === "denoise") {
    const noise = $("noise").value;
    const strength = Number($("strength").value).toFixed(2);
    const ensemble = $("ensemble").checked ? "8" : "1";
    Object.assign(s.fields, { noise, strength, ensemble });
    let what = { auto: "automatic", real: "real photo" }[noise];
    if (noise === "gaussian") {
      s.fields.level = $("level").value;
      what = `Gaussian ${$("level").value}`;
    }
    s.summary = `Denoise, ${what}, strength ${strength}${ensemble === "8" ? ", 8 flips/rotations" : ""}`;
  } else {
    const kernel = $("kernel").value;
    if (kernel === "file") {
      s.kernelFile = $("kernel-file").files[0] || null;
      if (!s.kernelFile) throw new Error("choose a kernel file, or pick a kernel from the list");
      s.fields.kernel_entry = $("kernel-entry").value.trim();
      s.summary = `Deblur, kernel ${s.kernelFile.name}${s.fields.kernel_entry ? "#" + s.fields.kernel_entry : ""}`;
    } else {
      const spec = kernel === "custom" ? $("kernel-spec").value.trim() : kernel;
      if (!spec) throw new Error("type a kernel, such as gaussian-2.0 or motion-25-30");
      s.fields.kernel = spec;
      s.summary = `Deblur, ${spec}`;
    }
  }
  return s;
}

function syncOptions() {
  const task = document.querySelector("input[name=task]:checked").value;
  $("denoise-options").hidden = task !== "denoise";
  $("deblur-options").hidden = task !== "deblur";
  $("level-row").hidden = $("noise").value !== "gaussian";
  $("kernel-spec").hidden = $("kernel").value !== "custom";
  $("kernel-file-row").hidden = $("kernel").value !== "file";
  $("strength-value").textContent = Number($("strength").value).toFixed(2);
}

// ------------------------------------------------------------------------------------------
// the list of images

function addFiles(files) {
  for (const file of files) cards.push(makeCard(file, null));
  refreshRunButton();
}

function makeCard(file, reference) {
  const card = { file, reference, state: "pending", jobId: null, urls: null, job: null };
  const li = document.createElement("li");
  li.className = "card";
  li.innerHTML = `
    <div class="card-head"><span class="card-name"></span><span class="card-size"></span>
      <button class="remove" title="Remove this image">&times;</button></div>
    <div class="card-settings"></div>
    <label class="ref">Clean reference (optional, for PSNR/SSIM)<input type="file" class="ref-input"></label>
    <div class="progress"><div class="bar"></div></div>
    <div class="card-status"></div>
    <div class="card-msg" role="alert"></div>
    <div class="card-actions">
      <button class="view" hidden>View</button>
      <a class="button download" hidden>Download</a>
      <button class="redo" hidden title="Restore this image again with the settings above">Redo</button>
    </div>`;
  li.querySelector(".card-name").textContent = file.name;
  li.querySelector(".card-name").title = file.name;
  li.querySelector(".card-size").textContent = megabytes(file.size);
  li.querySelector(".ref-input").addEventListener("change", (e) => {
    card.reference = e.target.files[0] || null;
  });
  li.querySelector(".remove").addEventListener("click", () => removeCard(card));
  li.querySelector(".view").addEventListener("click", () => {
    userPicked = true;
    showCard(card);
  });
  li.querySelector(".download").addEventListener("click", () => setTimeout(() => downloaded(card), 0));
  li.querySelector(".redo").addEventListener("click", () => {
    const again = makeCard(card.file, card.reference);
    run([again]);
  });
  card.el = li;
  $("queue").appendChild(li);
  $("empty-queue").hidden = true;
  render(card);
  return card;
}

function render(card) {
  const el = card.el;
  const job = card.job || {};
  el.dataset.state = card.state;
  el.querySelector(".ref").hidden = card.state !== "pending";
  el.querySelector(".card-settings").textContent =
    (card.settings ? card.settings.summary : "") + (card.reference ? ` \u00b7 reference ${card.reference.name}` : "");
  const bar = el.querySelector(".bar");
  bar.style.width = `${Math.round(100 * (card.state === "done" ? 1 : job.progress || 0))}%`;
  el.querySelector(".progress").classList.toggle("busy", card.state === "running" || card.state === "uploading");
  el.querySelector(".progress").hidden = !["uploading", "queued", "running", "done"].includes(card.state);
  const status = {
    pending: "Ready: press Restore",
    uploading: "Uploading\u2026",
    queued: job.ahead ? `Waiting: ${job.ahead} image${job.ahead > 1 ? "s" : ""} ahead` : "Waiting",
    running: `${capital(job.stage || "working")}\u2026 ${Math.round(job.elapsed_s || 0)} s`,
    done: `Done in ${(job.elapsed_s || 0).toFixed(1)} s \u00b7 ${facts(job)}`,
    downloaded: "Downloaded; removed from the server",
    error: "Not restored",
    expired: "Expired; removed from the server",
  }[card.state];
  el.querySelector(".card-status").textContent = status;
  const notes = (job.notes || []).join("; ");
  el.querySelector(".card-msg").textContent = card.message || metricsText(job) || notes;
  el.querySelector(".card-msg").classList.toggle("error", Boolean(card.message));
  el.querySelector(".view").hidden = !card.urls;
  const link = el.querySelector(".download");
  link.hidden = card.state !== "done";
  if (card.state === "done") {
    link.href = `/api/jobs/${card.jobId}/download`;
    link.setAttribute("download", job.download_name || "");
  }
  el.querySelector(".redo").hidden = !["done", "downloaded", "error", "expired"].includes(card.state);
  el.classList.toggle("shown", card === shown);
  if (card === shown) renderToolbar();
}

function refreshRunButton() {
  const n = cards.filter((c) => c.state === "pending").length;
  $("run").disabled = n === 0;
  $("run").textContent = n > 1 ? `Restore ${n} images` : "Restore";
}

function removeCard(card) {
  if (card.jobId && ["queued", "running", "done", "error"].includes(card.state)) {
    fetch(`/api/jobs/${card.jobId}`, { method: "DELETE" }).catch(() => {});
  }
  if (card.urls) Object.values(card.urls).forEach(URL.revokeObjectURL);
  cards.splice(cards.indexOf(card), 1);
  card.el.remove();
  if (shown === card) {
    shown = null;
    view.clear();
    renderToolbar();
  }
  $("empty-queue").hidden = cards.length > 0;
  refreshRunButton();
}

function downloaded(card) {
  card.state = "downloaded";
  render(card);
}

// ------------------------------------------------------------------------------------------
// talking to the server

async function run(list) {
  let settings;
  try {
    settings = readSettings();
  } catch (err) {
    return say(err.message);
  }
  say("");
  for (const card of list) {
    card.settings = settings;
    card.state = "uploading";
    card.message = "";
    render(card);
  }
  refreshRunButton();
  for (const card of list) await submit(card, settings);
}

async function submit(card, settings) {
  const size = card.file.size + (card.reference ? card.reference.size : 0) + (settings.kernelFile ? settings.kernelFile.size : 0);
  if (limit && size > limit) {
    return fail(card, `${card.file.name} is larger than this server's limit of ${megabytes(limit)} (restorekit serve --max-upload-mb)`);
  }
  const form = new FormData();
  for (const [key, value] of Object.entries(settings.fields)) form.append(key, value);
  form.append("image", card.file, card.file.name);
  if (card.reference) form.append("reference", card.reference, card.reference.name);
  if (settings.kernelFile) form.append("kernel_file", settings.kernelFile, settings.kernelFile.name);
  let response, body;
  try {
    response = await fetch("/api/jobs", { method: "POST", body: form });
    body = await response.json().catch(() => ({}));
  } catch (err) {
    return fail(card, "the upload failed: the server closed the connection (is the file over its size limit, or the server stopped?)");
  }
  if (!response.ok) return fail(card, body.error || `the server answered ${response.status}`);
  card.jobId = body.id;
  update(card, body);
  startPolling();
}

function fail(card, message) {
  card.state = "error";
  card.message = message;
  render(card);
}

function update(card, job) {
  card.job = job;
  card.state = job.state;
  card.message = job.state === "error" ? job.message : "";
  if (job.state === "done" && !card.urls && !card.loading) loadPreviews(card);
  render(card);
}

async function loadPreviews(card) {
  // Kept as blobs: the viewer still works once the download has removed the job's files.
  card.loading = true;
  try {
    const get = async (name) => {
      const r = await fetch(`/api/jobs/${card.jobId}/${name}.png`);
      if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error || `HTTP ${r.status}`);
      return URL.createObjectURL(await r.blob());
    };
    card.urls = { before: await get("before"), after: await get("after") };
    if (!userPicked || !shown) showCard(card);
  } catch (err) {
    card.message = `the result could not be shown (${err.message})`;
  }
  card.loading = false;
  render(card);
}

function startPolling() {
  if (polling) return;
  polling = true;
  const tick = async () => {
    const active = cards.filter((c) => c.jobId && (c.state === "queued" || c.state === "running"));
    if (!active.length) {
      polling = false;
      return;
    }
    try {
      const r = await fetch("/api/jobs", { cache: "no-store" });
      const jobs = new Map(((await r.json()).jobs || []).map((j) => [j.id, j]));
      for (const card of active) {
        if (jobs.has(card.jobId)) update(card, jobs.get(card.jobId));
        else {
          card.state = "expired";
          render(card);
        }
      }
    } catch (err) {
      say("lost contact with the server; is restorekit serve still running?");
    }
    setTimeout(tick, 400);
  };
  setTimeout(tick, 200);
}

// ------------------------------------------------------------------------------------------
// the viewer's toolbar

async function showCard(card) {
  const previous = shown;
  shown = card;
  if (previous) render(previous);
  render(card);
  try {
    await view.show(card.urls.before, card.urls.after);
  } catch (err) {
    say(err.message);
  }
}

function renderToolbar() {
  const card = shown;
  $("placeholder").hidden = Boolean(card);
  $("view-name").textContent = card ? card.file.name : "No result yet";
  $("metrics").textContent = card && card.job ? metricsText(card.job) : "";
  const link = $("download");
  link.hidden = !card || card.state !== "done";
  if (card && card.state === "done") {
    link.href = `/api/jobs/${card.jobId}/download`;
    link.setAttribute("download", card.job.download_name || "");
    link.onclick = () => setTimeout(() => downloaded(card), 0);
  }
}

// ------------------------------------------------------------------------------------------
// small helpers

function metricsText(job) {
  const m = job.metrics;
  if (!m || m.psnr_after === undefined) return "";
  const db = (v) => (v === null ? "\u221e" : v.toFixed(2));
  let text = `PSNR ${db(m.psnr_before)} \u2192 ${db(m.psnr_after)} dB`;
  if (m.ssim_after !== undefined) text += ` \u00b7 SSIM ${m.ssim_before.toFixed(3)} \u2192 ${m.ssim_after.toFixed(3)}`;
  return text;
}

function facts(job) {
  if (!job.width) return "";
  const kind = job.channels === 1 ? "gray" : "colour";
  return `${job.width}\u00d7${job.height} ${kind}, ${job.bits}-bit ${String(job.format).toUpperCase()}`;
}

function megabytes(n) {
  if (n < 1e5) return `${Math.ceil(n / 1e3)} kB`;
  return `${Number((n / 1e6).toFixed(n < 1e7 ? 1 : 0))} MB`; // 5 MB, 1.2 MB, 12 MB
}

function capital(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function say(message) {
  $("message").textContent = message;
  $("message").hidden = !message;
}

// ------------------------------------------------------------------------------------------
// start

async function start() {
  for (const id of ["noise", "kernel", "strength"]) $(id).addEventListener("input", syncOptions);
  document.querySelectorAll("input[name=task]").forEach((el) => el.addEventListener("change", syncOptions));
  $("files").addEventListener("change", (e) => {
    addFiles(e.target.files);
    e.target.value = "";
  });
  $("run").addEventListener("click", () => run(cards.filter((c) => c.state === "pending")));
  const drop = $("drop");
  drop.addEventListener("click", (e) => { if (e.target === drop) $("files").click(); });
  drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") $("files").click(); });
  document.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  document.addEventListener("dragleave", (e) => { if (!e.relatedTarget) drop.classList.remove("over"); });
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer && e.dataTransfer.files.length) addFiles(e.dataTransfer.files);
  });
  $("zoom-in").addEventListener("click", () => view.zoomAt(1.5));
  $("zoom-out").addEventListener("click", () => view.zoomAt(1 / 1.5));
  $("zoom-fit").addEventListener("click", () => view.fit());
  $("zoom-1").addEventListener("click", () => view.zoomAt(1 / view.z));

  try {
    const options = await (await fetch("/api/options")).json();
    limit = options.max_upload_bytes;
    $("limit").textContent = megabytes(limit);
    const select = $("kernel");
    for (const k of options.kernels) select.add(new Option(`${k.label} (${k.spec})`, k.spec));
    select.add(new Option("Other: type a kernel\u2026", "custom"));
    select.add(new Option("Upload a kernel file\u2026", "file"));
    select.value = "motion-15-45";
  } catch (err) {
    say("cannot reach the server; is restorekit serve running?");
  }
  syncOptions();
  renderToolbar();
}

start();

// The dashboard: a few pages over the product's JSON API, routed by the URL's hash. No build step:
// plain ES modules, with uPlot (from npm, pinned in package.json) for the line charts.
import uPlot from "./vendor/uPlot.esm.js";

const main = document.getElementById("main");
const api = document.querySelector('meta[name="api-base"]')?.content ?? "/api";

class ApiError extends Error {
  constructor(status, detail) { super(detail); this.status = status; }
}

// Every route the dashboard calls is a reading or administration route: laptop mode needs nothing, and
// in Azure the signed-in person's session (App Service Authentication) is sent with each call, and
// the app checks their app role. No function key is ever asked for or sent.
async function call(path, options = {}) {
  const response = await fetch(`${api}/${path}`, { ...options, headers: { Accept: "application/json", ...(options.headers ?? {}) } });
  const text = await response.text();
  const body = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, body?.detail ?? body?.title ?? response.statusText);
  return { body, etag: response.headers.get("ETag") };
}
const get = async (path) => (await call(path)).body;
const send = (method, path, body, etag) => call(path, {
  method, body: JSON.stringify(body ?? {}),
  headers: { "Content-Type": "application/json", ...(etag ? { "If-Match": etag } : {}) },
});

// Building DOM without innerHTML, so no value from the API is ever read as markup.
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}
const link = (href, text) => h("a", { href }, text);

// A file from the API: a plain link, which carries the session like every call.
const downloadLink = (path, filename, text) => h("a", { href: `${api}/${path}`, download: filename }, text);
const enc = encodeURIComponent;
const fmt = (value, digits = 4) => typeof value === "number" ? (Number.isInteger(value) ? value.toLocaleString("en") : value.toFixed(digits)) : value ?? "–";
const when = (iso) => iso ? new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "medium" }) : "–";
const seconds = (from, to) => from && to ? ((new Date(to) - new Date(from)) / 1000).toFixed(1) + " s" : "running";
const statusBadge = (status) => h("span", { class: `badge ${/succeeded|passed|noDrift|ready|completed|^reproduced$/i.test(status) ? "ok" : /fail|reject|drift|cancel|rolledBack|terminated|notReproduced/i.test(status) ? "bad" : "warn"}` }, status ?? "–");

function table(columns, rows, { caption, sortable = false } = {}) {
  let sortBy = null, ascending = true;
  const body = h("tbody");
  const render = () => {
    const sorted = sortBy === null ? rows : [...rows].sort((a, b) => {
      const x = columns[sortBy].sort?.(a) ?? "", y = columns[sortBy].sort?.(b) ?? "";
      return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
    });
    body.replaceChildren(...sorted.map((row) => h("tr", {}, columns.map((c) => h("td", { class: c.num ? "num" : null }, c.cell(row))))));
  };
  const head = h("tr", {}, columns.map((c, i) => h("th", { scope: "col", class: c.num ? "num" : null, "aria-sort": "none" },
    sortable && c.sort ? h("button", { type: "button", onclick: (e) => {
      ascending = sortBy === i ? !ascending : true; sortBy = i;
      for (const th of head.children) th.setAttribute("aria-sort", "none");
      e.currentTarget.parentElement.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      render();
    } }, c.title) : c.title)));
  render();
  return h("table", {}, caption ? h("caption", { class: "muted" }, caption) : null, h("thead", {}, head), body);
}

function lineChart(title, x, series, xLabel = "epoch") {
  const box = h("figure", { class: "chart", "aria-label": title }, h("figcaption", {}, title));
  queueMicrotask(() => new uPlot({
    width: Math.min(main.clientWidth - 20, 900), height: 220,
    scales: { x: { time: false } },
    series: [{ label: xLabel }, ...series.map((s, i) => ({ label: s.label, stroke: ["#0b5cad", "#a4161a", "#1a6b2f"][i % 3], width: 2 }))],
  }, [x, ...series.map((s) => s.values)], box));
  return box;
}

function histogram(label, counts) {
  const max = Math.max(1, ...counts);
  return h("div", { class: "hist", role: "img", "aria-label": `${label}: ${counts.join(", ")}` },
    counts.map((c) => h("span", { style: `height:${(100 * c / max).toFixed(1)}%`, title: String(c) })));
}

async function confirmAction(text) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = text;
  const reason = document.getElementById("confirm-reason");
  reason.value = "";
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok" ? reason.value : null), { once: true }));
}

async function act(description, action) {
  const reason = await confirmAction(description);
  if (!reason) return;
  try {
    await action(reason);
    route();
  } catch (error) {
    const message = error instanceof ApiError && error.status === 409
      ? `Changed by someone else (${error.message}). Reload the page and try again.`
      : `Failed: ${error.message}`;
    main.prepend(h("div", { class: "error", role: "alert" }, message));
  }
}

// Pages -----------------------------------------------------------------------------------------

async function modelsPage() {
  const { models } = await get("models");
  const rows = await Promise.all(models.map(async (m) => {
    const [monitoring, runs] = await Promise.all([
      get(`models/${enc(m.name)}/monitoring`).catch(() => null), get(`models/${enc(m.name)}/runs?limit=1`).catch(() => null)]);
    return { ...m, pass: monitoring?.passes?.[0], samples: monitoring?.latest?.report?.samples, run: runs?.runs?.[0] };
  }));
  return [
    h("h1", {}, "Models"),
    rows.length === 0 ? h("p", {}, "No model yet: PUT a spec to /api/models/{name}.") : table([
      { title: "Model", cell: (m) => link(`#/models/${enc(m.name)}`, m.name) },
      { title: "Task", cell: (m) => m.task },
      { title: "Champion", cell: (m) => m.aliases.champion ? link(`#/models/${enc(m.name)}/versions/${m.aliases.champion}`, `v${m.aliases.champion}`) : "–" },
      { title: "Challenger", cell: (m) => m.aliases.challenger ? `v${m.aliases.challenger}` : "–" },
      { title: "Latest run", cell: (m) => m.run ? [statusBadge(m.run.status), " ", link(`#/runs/${enc(m.run.runId)}`, when(m.run.createdAt))] : "–" },
      { title: "Monitoring", cell: (m) => m.pass ? [statusBadge(m.pass.status), " ", when(m.pass.at)] : "–" },
      { title: "Predictions (last window)", num: true, cell: (m) => fmt(m.samples) },
    ], rows, { caption: "Every registered model, its aliases and its latest monitoring window." }),
  ];
}

async function modelPage(name) {
  const [model, versions, audit, rollout, reports, runs] = await Promise.all([
    get(`models/${enc(name)}`), get(`models/${enc(name)}/versions`), get(`models/${enc(name)}/audit`),
    get(`models/${enc(name)}/rollout`), get(`models/${enc(name)}/monitoring/reports?limit=200`), get(`models/${enc(name)}/runs?limit=10`),
  ]);
  const metricNames = [...new Set(versions.versions.flatMap((v) => Object.keys(v.metrics ?? {})))].slice(0, 4);
  // A running run may be waiting for a person's decision: its last step is an approve step not yet done.
  const waiting = (await Promise.all(runs.runs.filter((r) => r.status === "running").map((r) => call(`runs/${enc(r.runId)}`).then(({ body, etag }) => ({ ...body, etag })).catch(() => null))))
    .filter((run) => run?.steps?.at(-1)?.name === "approve" && !run.steps.at(-1).completedAt);
  const aliasInput = h("input", { id: "alias-name", value: "champion", size: 10 });
  const versionSelect = h("select", { id: "alias-version" }, versions.versions.filter((v) => v.status === "ready").map((v) => h("option", { value: v.version }, `v${v.version}`)));
  const passes = reports.reports;
  return [
    h("h1", {}, name),
    h("p", {}, `${model.spec.task} model, ${model.versions} version(s). `, link(`#/models/${enc(name)}/drift`, "Latest drift report")),
    h("h2", {}, "Actions"),
    h("div", { class: "actions" },
      h("label", { for: "alias-name" }, "Alias", aliasInput),
      h("label", { for: "alias-version" }, "Version", versionSelect),
      h("button", { type: "button", onclick: () => act(`Point '${aliasInput.value}' of ${name} at v${versionSelect.value}?`,
        (reason) => send("PUT", `models/${enc(name)}/aliases/${enc(aliasInput.value)}`, { version: Number(versionSelect.value), reason }, versions.aliasETags?.[aliasInput.value])) }, "Move alias"),
      h("button", { type: "button", onclick: () => act(`Roll ${name}'s champion back to the previous one?`,
        (reason) => send("POST", `models/${enc(name)}/rollback`, { reason }, versions.aliasETags?.champion)) }, "Roll back champion")),
    waiting.map((run) => h("div", { class: "notice actions", role: "status" },
      h("span", {}, "Run ", link(`#/runs/${enc(run.runId)}`, run.runId), ` waits for approval (candidate metrics: ${Object.entries(run.metrics ?? {}).slice(0, 2).map(([k, x]) => `${k} ${fmt(x)}`).join(", ")}).`),
      h("button", { type: "button", class: "primary", onclick: () => act(`Approve run ${run.runId}?`, (reason) => send("POST", `runs/${enc(run.runId)}/approve`, { reason }, run.etag)) }, "Approve"),
      h("button", { type: "button", onclick: () => act(`Reject run ${run.runId}?`, (reason) => send("POST", `runs/${enc(run.runId)}/reject`, { reason }, run.etag)) }, "Reject"))),
    h("h2", {}, "Recent runs"),
    runs.runs.length ? table([
      { title: "Run", cell: (r) => link(`#/runs/${enc(r.runId)}`, r.runId) }, { title: "Status", cell: (r) => statusBadge(r.status) },
      { title: "Trigger", cell: (r) => r.trigger }, { title: "Started", cell: (r) => when(r.createdAt) },
      { title: "Version", cell: (r) => r.version ? link(`#/models/${enc(name)}/versions/${r.version}`, `v${r.version}`) : "–" },
    ], runs.runs) : h("p", {}, "No run yet."),
    h("h2", {}, "Versions"),
    table([
      { title: "Version", sort: (v) => v.version, cell: (v) => link(`#/models/${enc(name)}/versions/${v.version}`, `v${v.version}`) },
      { title: "Aliases", cell: (v) => v.aliases.join(", ") || "–" },
      { title: "Status", cell: (v) => statusBadge(v.status) },
      ...metricNames.map((m) => ({ title: m, num: true, sort: (v) => v.metrics?.[m] ?? -Infinity, cell: (v) => fmt(v.metrics?.[m]) })),
      { title: "Created", sort: (v) => v.createdAt, cell: (v) => when(v.createdAt) },
      { title: "Run", cell: (v) => v.runId ? link(`#/runs/${enc(v.runId)}`, v.runId) : "–" },
    ], versions.versions, { sortable: true }),
    h("h2", {}, "Rollout"),
    rollout.current ? [
      h("p", {}, statusBadge(rollout.current.status), ` ${rollout.current.strategy}: v${rollout.current.challenger} against champion v${rollout.current.champion}, step ${rollout.current.step} at ${fmt(100 * rollout.current.share, 0)}% of traffic, since ${when(rollout.current.startedAt)}`,
        rollout.current.reason ? ` · ${rollout.current.reason}` : ""),
      rollout.current.checks?.length ? table(Object.keys(rollout.current.checks[0]).map((k) => ({ title: k, cell: (c) => typeof c[k] === "object" ? JSON.stringify(c[k]) : fmt(c[k], 3) })), rollout.current.checks, { caption: "Each step's check." }) : null,
    ] : h("p", {}, "No rollout."),
    h("h2", {}, "Monitoring"),
    passes.length ? [
      passes.length > 1 ? lineChart("Drifted share of features per window (oldest first)", passes.map((_, i) => i + 1), [{ label: "drifted share", values: [...passes].reverse().map((p) => p.driftedShare) }], "window") : null,
      table([
        { title: "Window end", cell: (p) => link(`#/models/${enc(name)}/drift/${enc(p.id)}`, when(p.at)) }, { title: "Version", cell: (p) => `v${p.version}` },
        { title: "Status", cell: (p) => statusBadge(p.status) }, { title: "Drifted share", num: true, cell: (p) => fmt(p.driftedShare, 2) },
        { title: "Share of importance", num: true, cell: (p) => fmt(p.importanceDriftedShare, 2) },
        { title: "Decision", cell: (p) => p.decision?.action ?? p.decision?.kind ?? JSON.stringify(p.decision) }, { title: "Summary", cell: (p) => p.summary },
      ], passes.slice(0, 20), { caption: passes.length > 20 ? `The newest 20 of ${passes.length} windows in the last 7 days.` : "Windows of the last 7 days." }),
    ] : h("p", {}, "No monitoring window in the last 7 days."),
    h("h2", {}, "Audit trail"),
    table([
      { title: "When", cell: (e) => when(e.at) }, { title: "What", cell: (e) => [e.action, e.alias ? ` (${e.alias})` : ""] },
      { title: "Version", cell: (e) => e.from != null ? `v${e.from} → v${e.to}` : e.to != null ? `v${e.to}` : "–" },
      { title: "By", cell: (e) => e.actor ?? "–" }, { title: "Reason", cell: (e) => e.reason ?? "–" },
    ], audit.events),
  ];
}

async function runPage(runId) {
  const { body: run, etag } = await call(`runs/${enc(runId)}`);
  const waiting = run.status === "running" && run.steps.at(-1)?.name === "approve" && !run.steps.at(-1)?.completedAt;
  const first = run.steps[0]?.startedAt;
  const total = run.steps.length ? new Date(run.steps.at(-1).completedAt ?? Date.now()) - new Date(first) : 1;
  const content = [
    h("h1", {}, "Run ", h("code", {}, run.runId)),
    h("p", {}, statusBadge(run.status), " ", run.model ? link(`#/models/${enc(run.model)}`, run.model) : "", ` · ${run.trigger ?? ""} · started ${when(run.createdAt)}`,
      run.version ? [" · ", link(`#/models/${enc(run.model)}/versions/${run.version}`, `registered v${run.version}`)] : "",
      run.profileUrl ? [" · ", link(`#/runs/${enc(run.runId)}/profile`, "dataset profile")] : ""),
    run.error ? h("div", { class: "error" }, run.error) : null,
    waiting ? h("div", { class: "actions" },
      h("button", { type: "button", class: "primary", onclick: () => act(`Approve run ${runId}?`, (reason) => send("POST", `runs/${enc(runId)}/approve`, { reason }, etag)) }, "Approve"),
      h("button", { type: "button", onclick: () => act(`Reject run ${runId}?`, (reason) => send("POST", `runs/${enc(runId)}/reject`, { reason }, etag)) }, "Reject")) : null,
    h("h2", {}, "Steps"),
    h("ol", { class: "timeline" }, run.steps.map((s) => h("li", {},
      h("span", {}, h("strong", {}, s.name), " ", statusBadge(s.outcome)),
      h("span", {}, h("div", { class: "bar", style: `margin-left:${(100 * (new Date(s.startedAt) - new Date(first)) / total).toFixed(1)}%;width:${Math.max(0.5, 100 * ((new Date(s.completedAt ?? Date.now()) - new Date(s.startedAt)) / total)).toFixed(1)}%` }), h("small", { class: "muted" }, s.detail ?? "")),
      h("span", { class: "num" }, seconds(s.startedAt, s.completedAt))))),
  ];
  for (const job of run.training ?? []) {
    const epochs = job.epochs;
    content.push(h("h2", {}, `Training ${job.jobId}: epoch ${job.epoch} of ${job.maxEpochs} on ${job.device}`),
      lineChart(`Loss per epoch (best epoch ${job.bestEpoch})`, epochs.map((e) => e.epoch), [
        { label: "training loss", values: epochs.map((e) => e.trainLoss) }, { label: "validation loss", values: epochs.map((e) => e.validationLoss) }]));
  }
  if (run.findings?.length) {
    content.push(h("h2", {}, "Data findings"), table([
      { title: "Column", cell: (f) => f.column }, { title: "Rule", cell: (f) => f.rule }, { title: "Severity", cell: (f) => statusBadge(f.severity) }, { title: "Message", cell: (f) => f.message },
    ], run.findings));
  }
  if (run.trials?.length) {
    const names = [...new Set(run.trials.flatMap((t) => Object.keys(t.hyperparameters ?? {})))];
    const metrics = [...new Set(run.trials.flatMap((t) => Object.keys(t.validationMetrics ?? {})))];
    content.push(h("h2", {}, "Trials"), table([
      { title: "Job", sort: (t) => t.jobId, cell: (t) => t.jobId }, { title: "State", cell: (t) => statusBadge(t.state) },
      ...names.map((n) => ({ title: n, num: true, sort: (t) => t.hyperparameters?.[n], cell: (t) => fmt(t.hyperparameters?.[n]) })),
      ...metrics.map((m) => ({ title: m, num: true, sort: (t) => t.validationMetrics?.[m] ?? -Infinity, cell: (t) => fmt(t.validationMetrics?.[m]) })),
    ], run.trials, { sortable: true, caption: "Sort by a column's button." }));
  }
  if (run.verdict) {
    content.push(h("h2", {}, "Gate ", statusBadge(run.verdict.passed ? "passed" : "failed")), table([
      { title: "Scope", cell: (c) => c.scope }, { title: "Metric", cell: (c) => c.metric }, { title: "Candidate", num: true, cell: (c) => fmt(c.observed) },
      { title: "Champion", num: true, cell: (c) => fmt(c.baseline) }, { title: "Bound", cell: (c) => `${c.comparison} ${fmt(c.threshold)}` },
      { title: "Result", cell: (c) => statusBadge(c.passed ? "passed" : "failed") },
    ], run.verdict.checks));
  }
  if (run.reproduction) {
    const r = run.reproduction;
    content.push(h("h2", {}, `Reproduction of v${r.version} `, statusBadge(r.reproduced ? "reproduced" : "notReproduced")),
      h("dl", {}, [["Recorded SHA-256", r.recordedSha256], ["New SHA-256", r.sha256], ["Recorded trainer", r.recordedTrainerVersion], ["Trainer now", r.trainerVersion]]
        .flatMap(([k, value]) => [h("dt", {}, k), h("dd", {}, value ?? "–")])),
      r.differences.length ? table([{ title: "What differs", cell: (d) => d.what }, { title: "How", cell: (d) => d.detail }], r.differences) : null);
  }
  if (run.status === "running" || run.status === "pending") {
    setTimeout(() => { if (location.hash === `#/runs/${enc(runId)}`) route(); }, 2000);
  }
  return content;
}

async function versionPage(name, version) {
  const v = await get(`models/${enc(name)}/versions/${enc(version)}`);
  const card = v.card ?? {};
  const lineage = card.lineage ?? {};
  const facts = [
    ["Status", v.status], ["Aliases", v.aliases.join(", ") || "–"], ["Run", v.runId], ["Created", when(v.createdAt)],
    ["Algorithm", card.algorithm], ["Trainer version", card.trainerVersion], ["Device", card.device ?? card.hardware],
    ["Dataset", card.dataset?.path], ["Dataset SHA-256", card.dataset?.sha256], ["Spec SHA-256", lineage.specSha256],
    ["Trigger", lineage.trigger], ["Reason", lineage.reason], ["ONNX SHA-256", v.sha256],
  ];
  const baseline = v.baseline;
  return [
    h("h1", {}, `${name} v${v.version}`),
    h("p", {}, downloadLink(`models/${enc(name)}/versions/${v.version}/model.onnx`, `${name}-v${v.version}.onnx`, "Download the ONNX file"),
      " · ", link(`#/runs/${enc(v.runId)}`, "its run")),
    card.imported ? null : h("div", { class: "actions" }, h("button", { type: "button", onclick: () => act(`Train ${name} v${v.version} again from its recorded dataset, spec and seed, and compare the bytes? Nothing is registered.`,
      async (reason) => { location.hash = `#/runs/${enc((await send("POST", `models/${enc(name)}/versions/${v.version}/reproduce`, { reason })).body.runId)}`; }) }, "Reproduce")),
    h("h2", {}, "Lineage"),
    h("dl", {}, facts.flatMap(([k, value]) => [h("dt", {}, k), h("dd", {}, value ?? "–")])),
    h("h2", {}, "Metrics"),
    table([{ title: "Metric", cell: ([k]) => k }, { title: "Test", num: true, cell: ([, x]) => fmt(x) }, { title: "Validation", num: true, cell: ([k]) => fmt(card.validationMetrics?.[k]) }],
      Object.entries(card.testMetrics ?? v.metrics ?? {})),
    lineage.slices?.length ? [h("h2", {}, "Slice metrics"), table([
      { title: "Slice", cell: (s) => `${s.feature}=${s.value}` }, { title: "Rows", num: true, cell: (s) => fmt(s.rows) },
      ...Object.keys(lineage.slices[0].metrics ?? {}).map((m) => ({ title: m, num: true, cell: (s) => fmt(s.metrics?.[m]) })),
    ], lineage.slices)] : null,
    card.importance ? importanceView(card.importance) : null,
    baseline ? [h("h2", {}, "Baseline profile"), profileView(baseline, [])] : null,
  ];
}

function importanceView(importance) {
  return [
    h("h2", {}, "Feature importance"),
    table([
      { title: "Feature", cell: (f) => f.feature },
      { title: `${importance.metric} drop`, num: true, cell: (f) => fmt(f.drop, 4) },
      { title: "Spread", num: true, cell: (f) => `± ${fmt(f.spread, 4)}` },
      { title: "Share", cell: (f) => h("span", {}, `${(100 * f.share).toFixed(1)}%`, h("div", { class: "bar", "aria-hidden": "true", style: `width:${Math.max(0.5, 100 * f.share).toFixed(1)}%` })) },
    ], importance.features, { caption: `How much ${importance.metric} drops when a feature's values are shuffled: ${fmt(importance.rows)} test rows, ${importance.repeats} shuffles each (baseline ${fmt(importance.baseline, 4)}).` }),
  ];
}

function profileView(profile, findings) {
  return [
    h("p", {}, `${fmt(profile.rows)} rows · duplicate share ${fmt(profile.duplicateRowRatio, 3)}`),
    h("div", { class: "grid2" }, Object.entries(profile.features ?? {}).map(([name, f]) => h("section", { class: "card", "aria-label": name },
      h("h3", {}, name, " ", h("small", { class: "muted" }, f.type)),
      h("p", { class: "muted" }, `${fmt(f.count)} values, ${fmt(f.missing)} missing`),
      f.numeric ? [h("dl", {}, ["min", "max", "mean", "standardDeviation"].flatMap((k) => [h("dt", {}, k), h("dd", {}, fmt(f.numeric[k], 3))])), histogram(`${name} histogram`, f.numeric.histogram.counts)] : null,
      f.categorical ? table([{ title: "Category", cell: (c) => c.value }, { title: "Rows", num: true, cell: (c) => fmt(c.count) }], f.categorical.top) : null))),
    findings.length ? [h("h2", {}, "Findings"), table([{ title: "Column", cell: (f) => f.column }, { title: "Rule", cell: (f) => f.rule }, { title: "Message", cell: (f) => f.message }], findings)] : null,
  ];
}

async function profilePage(runId) {
  const [profile, run] = await Promise.all([get(`runs/${enc(runId)}/profile`), get(`runs/${enc(runId)}`)]);
  return [h("h1", {}, "Dataset profile of run ", h("code", {}, runId)), profileView(profile, run.findings ?? [])];
}

function overlay(feature, bins) {
  const labels = bins.categories ? [...bins.categories, "other"]
    : bins.edges.map((e, i) => `≤ ${fmt(e, 2)}`).concat([`> ${fmt(bins.edges.at(-1), 2)}`]);
  const share = (counts) => { const total = counts.reduce((a, b) => a + b, 0) || 1; return counts.map((c) => c / total); };
  const [reference, current] = [share(bins.reference), share(bins.current)];
  const max = Math.max(0.0001, ...reference, ...current);
  return h("figure", { class: "chart" },
    h("div", { class: "hist pair", role: "img", "aria-label": `${feature}: share of rows per bin, training then this window: ${labels.map((l, i) => `${l} ${(100 * reference[i]).toFixed(0)}% / ${(100 * current[i]).toFixed(0)}%`).join("; ")}` },
      labels.map((label, i) => h("span", { class: "bin", title: `${label}: training ${(100 * reference[i]).toFixed(1)}%, window ${(100 * current[i]).toFixed(1)}%` },
        h("i", { class: "ref", style: `height:${(100 * reference[i] / max).toFixed(1)}%` }), h("i", { class: "cur", style: `height:${(100 * current[i] / max).toFixed(1)}%` })))),
    h("figcaption", { class: "muted" }, h("span", { class: "key ref" }), " training data ", h("span", { class: "key cur" }), " this window"));
}

async function driftPage(name, reportId) {
  const full = reportId ? await get(`models/${enc(name)}/monitoring/reports/${enc(reportId)}`) : (await get(`models/${enc(name)}/monitoring`)).latest;
  const report = full?.report;
  if (!report) return [h("h1", {}, `Drift: ${name}`), h("p", {}, "No monitoring window yet.")];
  const features = [...report.features, ...(report.prediction ? [report.prediction] : [])];
  return [
    h("h1", {}, `Drift: ${name}`),
    h("p", {}, statusBadge(report.status), ` v${report.version} · ${when(report.from)} – ${when(report.to)} · ${fmt(report.samples)} predictions · drifted share ${fmt(report.driftedShare, 2)}${report.importanceDriftedShare != null ? `, of the model's importance ${fmt(report.importanceDriftedShare, 2)}` : ""}${report.shareOf === "importance" ? " (judged by importance)" : ""}`),
    h("p", {}, report.summary),
    h("div", { class: "grid2" }, features.map((f) => h("section", { class: "card", "aria-label": `${f.feature} drift` },
      h("h3", {}, f.feature, " ", f.drifted ? h("span", { class: "badge bad" }, "drifted") : h("span", { class: "badge ok" }, "stable")),
      f.bins ? overlay(f.feature, f.bins) : null,
      table([{ title: "Test", cell: (t) => t.test }, { title: "Statistic", num: true, cell: (t) => fmt(t.statistic) }, { title: "Threshold", num: true, cell: (t) => fmt(t.threshold) },
        { title: "Drifted", cell: (t) => t.drifted ? h("span", { class: "bad" }, "yes") : "no" }], f.tests),
      h("p", { class: "muted" }, `missing ${fmt(f.missingRate, 3)} · out of range ${fmt(f.outOfRangeRate, 3)} · unseen ${fmt(f.unseenRate, 3)}`)))),
  ];
}

// Routing ---------------------------------------------------------------------------------------

const routes = [
  [/^#?\/?$/, () => modelsPage()],
  [/^#\/models\/([^/]+)$/, (m) => modelPage(decodeURIComponent(m[1]))],
  [/^#\/models\/([^/]+)\/versions\/([^/]+)$/, (m) => versionPage(decodeURIComponent(m[1]), decodeURIComponent(m[2]))],
  [/^#\/models\/([^/]+)\/drift$/, (m) => driftPage(decodeURIComponent(m[1]))],
  [/^#\/models\/([^/]+)\/drift\/([^/]+)$/, (m) => driftPage(decodeURIComponent(m[1]), decodeURIComponent(m[2]))],
  [/^#\/runs\/([^/]+)$/, (m) => runPage(decodeURIComponent(m[1]))],
  [/^#\/runs\/([^/]+)\/profile$/, (m) => profilePage(decodeURIComponent(m[1]))],
];

async function route() {
  const hash = location.hash || "#/";
  const found = routes.map(([pattern, page]) => [hash.match(pattern), page]).find(([match]) => match);
  try {
    const content = found ? await found[1](found[0]) : [h("h1", {}, "Not found"), h("p", {}, link("#/", "Back to the models"))];
    main.replaceChildren(...[content].flat(Infinity).filter(Boolean));
  } catch (error) {
    // 401: the session is gone (sign in again and come back); 403: signed in without the app role.
    main.replaceChildren(h("h1", {}, "Could not load this page"), h("div", { class: "error", role: "alert" }, error.message),
      error instanceof ApiError && error.status === 401
        ? h("p", {}, h("a", { href: `/.auth/login/aad?post_login_redirect_uri=${encodeURIComponent(location.pathname + location.hash)}` }, "Sign in again")) : null);
  }
  document.title = `${main.querySelector("h1")?.textContent ?? "ML lifecycle"} · ML lifecycle`;
}

window.addEventListener("hashchange", () => { route(); main.focus(); });
route();

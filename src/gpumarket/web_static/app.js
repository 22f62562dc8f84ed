// gpumarket live market page: polls /api/market and re-renders. Read-only: no wallet, no writes.
// Every value from the chain is put in the page as text (textContent), never as HTML.
"use strict";

const FILTERS = ["gpu_model", "region", "max_price", "min_gpus"];
const STATUS_CLASS = { pending: "st-pending", active: "st-active", ended: "st-ended", disputed: "st-disputed",
  settled: "st-done", cancelled: "st-done", resolved: "st-done" };
let pollMs = 2000;
let timer = null;
let chart = null;
let inFlight = false;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "title") node.title = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function short(address) {
  return address ? address.slice(0, 6) + "…" + address.slice(-4) : "";
}

function addr(address) {
  return el("span", { class: "addr", title: address }, short(address));
}

function amount(a, digits) {
  // "1,234.500000" with the token's decimals -> trimmed to `digits` decimals for reading; the title keeps it all.
  const [whole, frac = ""] = a.units.split(".");
  const shown = digits === 0 || !frac ? whole : whole + "." + frac.slice(0, digits).padEnd(digits, "0");
  return el("span", { class: "amount", title: a.units + " " + a.symbol + " (" + a.raw + " base units)" },
    shown + " " + a.symbol);
}

function when(ts) {
  if (!ts) return "";
  return new Date(ts * 1000).toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

function replaceRows(table, rows, emptyText, columns) {
  const body = table.querySelector("tbody");
  body.replaceChildren(...(rows.length ? rows : [el("tr", { class: "empty" }, el("td", { colspan: columns }, emptyText))]));
}

function query() {
  const form = document.getElementById("filters");
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const value = form.elements[name].value.trim();
    if (value) params.set(name, value);
  }
  return params;
}

function fillChoices(select, values) {
  const current = select.value;
  const wanted = ["", ...values];
  if (current && !wanted.includes(current)) wanted.push(current);
  const have = Array.from(select.options).map((o) => o.value);
  if (have.join("\u0000") === wanted.join("\u0000")) return;
  select.replaceChildren(...wanted.map((v) => el("option", { value: v }, v || "any")));
  select.value = current;
}

function renderTotals(data) {
  const t = data.totals;
  const cards = [
    ["GPU-hours served", t.gpu_hours_served, "settled rentals and disputes the provider did not lose"],
    ["Open offers", `${t.open_offers}`, `${t.gpus_free} of ${t.gpus_listed} GPUs free`],
    ["Rentals", `${t.rentals}`, `${t.rentals_running} streaming, ${t.rentals_pending} awaiting activation`],
    ["Providers", `${t.providers}`, `${t.vaults} backed by a vault`],
  ];
  const nodes = cards.map(([label, value, note]) =>
    el("div", { class: "card" }, el("div", { class: "label" }, label), el("div", { class: "value" }, value),
      el("div", { class: "note" }, note)));
  for (const tok of t.per_token) {
    nodes.push(el("div", { class: "card money", "data-token": tok.symbol },
      el("div", { class: "label" }, `${tok.symbol}: escrow held`),
      el("div", { class: "value escrow" }, amount(tok.escrow_held, 2)),
      el("div", { class: "note" }, "protocol fees ", amount(tok.protocol_fees_collected, 2), " collected, ",
        amount(tok.protocol_fees_held, 2), " held; credits owed ", amount(tok.credits_owed, 2))));
  }
  document.getElementById("totals").replaceChildren(...nodes);
}

function renderOffers(data) {
  const form = document.getElementById("filters");
  fillChoices(form.elements.gpu_model, data.choices.gpu_model);
  fillChoices(form.elements.region, data.choices.region);
  const rows = data.offers.map((o) => el("tr", { "data-offer-id": o.id },
    el("td", {}, `${o.id}`),
    el("td", {}, o.gpu_model),
    el("td", {}, o.region),
    el("td", { class: "num price" }, amount(o.price, 4)),
    el("td", { class: "num" }, `${o.gpus_free} / ${o.gpus_offered}`),
    el("td", {}, `${o.min_hours}–${o.max_hours} h`),
    el("td", {}, o.tiers.length ? o.tiers.map((t) => `≥${t.min_gpu_hours} GPU-h −${t.discount_pct}%`).join(", ") : "—"),
    el("td", {}, addr(o.provider), o.vault ? el("span", { class: "badge" }, "vault") : null,
      o.signed ? el("span", { class: "badge" }, "signed") : null,
      o.reserved_for ? el("span", { class: "badge", title: o.reserved_for }, "reserved") : null)));
  replaceRows(document.getElementById("offers"), rows, "No open offer matches these filters.", 8);
  document.getElementById("offers-count").textContent =
    data.offers_matching > data.offers.length ? `${data.offers.length} of ${data.offers_matching}` : `${data.offers_matching}`;
}

function renderChart(data) {
  const box = data.chart[0];
  document.getElementById("chart-token").textContent = box ? `in ${box.symbol}` : "";
  if (typeof Chart === "undefined") return;
  const palette = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2", "#4d7c0f", "#be185d"];
  const labels = box ? box.regions : [];
  const datasets = box ? box.series.map((s, i) => ({ label: s.gpu_model, data: s.cheapest,
    backgroundColor: palette[i % palette.length], skipNull: true })) : [];
  if (!chart) {
    chart = new Chart(document.getElementById("price-chart"), {
      type: "bar",
      data: { labels, datasets },
      options: { animation: false, responsive: true, maintainAspectRatio: false,
        scales: { y: { beginAtZero: true, title: { display: true, text: box ? `${box.symbol} per GPU-hour` : "" } } },
        plugins: { legend: { position: "bottom" } } },
    });
  } else {
    chart.data.labels = labels;
    chart.data.datasets = datasets;
    chart.options.scales.y.title.text = box ? `${box.symbol} per GPU-hour` : "";
    chart.update("none");
  }
}

function stream(r) {
  if (r.progress !== null && r.progress !== undefined) {
    const pct = (r.progress * 100).toFixed(1);
    return el("div", { class: "stream" },
      el("div", { class: "bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": pct },
        el("div", { class: "fill", style: null, "data-pct": pct })),
      el("span", { class: "pct" }, `${pct}%`), el("span", { class: "until" }, ` until ${when(r.ends_at)}`));
  }
  if (r.status === "pending") return el("span", { class: "note" }, `awaiting activation (by ${when(r.activation_deadline)})`);
  if (r.ends_at) return el("span", { class: "note" }, `${when(r.started_at)} → ${when(r.ends_at)}`);
  return el("span", { class: "note" }, "never started");
}

function renderRentals(data) {
  const rows = data.rentals.map((r) => el("tr", { "data-rental-id": r.id, "data-status": r.status,
      "data-progress": r.progress === null ? null : r.progress.toFixed(4) },
    el("td", {}, `${r.id}`),
    el("td", { class: "num" }, `${r.gpus} × ${r.hours_paid} h`),
    el("td", {}, `#${r.offer_id} ${r.gpu_model || ""} ${r.region || ""}`),
    el("td", {}, el("span", { class: "status-tag " + (STATUS_CLASS[r.status] || "") }, r.status)),
    el("td", { class: "wide" }, stream(r)),
    el("td", { class: "num" }, amount(r.total, 2)),
    el("td", { class: "num" }, amount(r.claimed, 2)),
    el("td", {}, addr(r.renter)),
    el("td", {}, addr(r.provider))));
  replaceRows(document.getElementById("rentals"), rows, "No rental yet.", 9);
  // Widths through the CSSOM (allowed by the page's CSP, unlike inline style attributes).
  for (const fill of document.querySelectorAll("#rentals .fill")) fill.style.width = fill.dataset.pct + "%";
  document.getElementById("rentals-count").textContent =
    data.rentals_total > data.rentals.length ? `${data.rentals.length} of ${data.rentals_total}` : `${data.rentals_total}`;
}

function renderProviders(data) {
  const rows = data.providers.map((p) => el("tr", { "data-provider": p.address },
    el("td", {}, addr(p.address), el("div", { class: "meta", title: p.metadata }, p.metadata)),
    el("td", { class: "num" }, amount(p.staked, 0)),
    el("td", { class: "num" }, amount(p.locked, 0)),
    el("td", { class: "num" }, amount(p.free, 0)),
    el("td", { class: "num" }, p.gpu_hours_served),
    el("td", { class: "num" }, `${p.rentals_completed}`),
    el("td", { class: "num" }, `${p.disputes_lost}`),
    el("td", { class: "num" }, amount(p.amount_slashed, 2)),
    el("td", { class: "backing" }, p.backing
      ? el("span", {}, el("span", { class: "badge" }, "vault"), ` ${p.backing.vault}: `, amount(p.backing.shares, 0),
        ` shares, operator `, addr(p.backing.operator), `, ${p.backing.commission_pct}% commission`)
      : "own stake")));
  replaceRows(document.getElementById("providers"), rows, "No provider yet.", 9);
  document.getElementById("providers-count").textContent = `${data.providers.length}`;
}

function renderStatus(data) {
  const s = data.status;
  const node = document.getElementById("status");
  node.replaceChildren(`block ${s.indexed.block} · chain time ${when(s.indexed.timestamp)}`,
    s.error ? el("span", { class: "error" }, ` · index not refreshing: ${s.error}`) : "");
  node.dataset.block = s.indexed.block;
  pollMs = Math.max(500, Math.round((s.refresh_seconds || 2) * 1000));
}

async function poll() {
  if (inFlight) return;
  inFlight = true;
  clearTimeout(timer);
  const params = query();
  history.replaceState(null, "", params.toString() ? "?" + params : location.pathname);
  const errorNode = document.getElementById("filter-error");
  try {
    const response = await fetch("/api/market?" + params, { cache: "no-store" });
    const data = await response.json();
    if (!response.ok) {
      errorNode.textContent = data.error || `error ${response.status}`;
    } else {
      errorNode.textContent = "";
      renderStatus(data);
      renderTotals(data);
      renderOffers(data);
      renderChart(data);
      renderRentals(data);
      renderProviders(data);
      document.body.dataset.updated = String(Date.now());
    }
  } catch (err) {
    document.getElementById("status").textContent = "server unreachable; retrying…";
  } finally {
    inFlight = false;
    timer = setTimeout(poll, pollMs);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("filters");
  const initial = new URLSearchParams(location.search);
  for (const name of FILTERS) {
    const value = initial.get(name);
    if (!value) continue;
    const field = form.elements[name];
    if (field.tagName === "SELECT") field.append(el("option", { value }, value));
    field.value = value;
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); poll(); });
  form.addEventListener("change", () => poll());
  form.addEventListener("input", (e) => { if (e.target.tagName === "INPUT") { clearTimeout(timer); timer = setTimeout(poll, 300); } });
  form.addEventListener("reset", () => setTimeout(poll, 0));
  poll();
});

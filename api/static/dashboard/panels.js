// The dashboard's panels other than the charts: status board, alerts, waiting orders,
// approval turnaround. Text goes in through textContent only.

import { ageSeconds, count, duration, moment, money, percent } from "./format.js";

let links = { temporalUiUrl: "", namespace: "default" };
let labels = new Map();

/** A status as people read it ("Under review"), from the labels the overview carries. */
function statusLabel(status) {
  return labels.get(status) || status;
}

/** Where order links point: set once from GET /dashboard/config. */
export function configureLinks(config) {
  links = { temporalUiUrl: config.temporal_ui_url, namespace: config.namespace };
}

export function temporalUrl(orderNo) {
  const namespace = encodeURIComponent(links.namespace);
  const workflowId = encodeURIComponent(`order-${orderNo}`);
  return `${links.temporalUiUrl}/namespaces/${namespace}/workflows/${workflowId}`;
}

function element(tag, className = "", text = null) {
  const made = document.createElement(tag);
  if (className) made.className = className;
  if (text !== null) made.textContent = text;
  return made;
}

/** The order number linking to its API detail (opened in the page, with the token). */
export function orderLink(orderNo) {
  const link = element("a", "order-link", orderNo);
  link.href = `/api/v1/orders/${encodeURIComponent(orderNo)}`;
  link.dataset.orderNo = orderNo;
  return link;
}

export function temporalLink(orderNo, text = "Temporal ↗") {
  const link = element("a", "temporal-link", text);
  link.href = temporalUrl(orderNo);
  link.target = "_blank";
  link.rel = "noopener noreferrer";
  link.title = `Workflow order-${orderNo} in the Temporal UI`;
  link.dataset.orderNo = orderNo;
  return link;
}

function cell(row, content, className = "") {
  const td = element("td", className);
  if (content instanceof Node) td.append(content);
  else td.textContent = content;
  row.append(td);
  return td;
}

const HOLD_LIKE = new Set(["ON_HOLD"]);
const TERMINAL = new Set(["COMPLETED", "REJECTED", "CANCELLED"]);

/** One tile per status: how many orders are in it now and what they are worth. */
export function renderStatuses(container, overview) {
  labels = new Map(overview.statuses.map((entry) => [entry.status, entry.label.en]));
  const tiles = overview.statuses.map((entry) => {
    const tile = element("div", "tile");
    tile.dataset.status = entry.status;
    if (HOLD_LIKE.has(entry.status)) tile.classList.add("hold");
    else if (TERMINAL.has(entry.status)) tile.classList.add("terminal");
    if (entry.count === 0) tile.classList.add("zero");
    tile.title = `${entry.status} · ${entry.label.zh}`;
    const value = element("div", "value", money(entry.value));
    const number = element("div", "count", count(entry.count));
    number.dataset.count = String(entry.count);
    tile.append(element("div", "label", entry.label.en), number, value);
    return tile;
  });
  container.replaceChildren(...tiles);
}

const ALERT_KINDS = [
  { key: "escalated", label: "Escalated reviews" },
  { key: "expired", label: "Expired reviews" },
  { key: "on_hold", label: "On hold" },
  { key: "system_faults", label: "Held by a system fault" },
];
const LIST_LIMIT = 6;

/** Counters (open alerts, escalated, expired, held, faults), then the orders behind them. */
export function renderAlerts(countsBox, listsBox, overview) {
  const counters = [{ key: "open_alerts", label: "Open alerts", value: overview.open_alerts }]
    .concat(ALERT_KINDS.map((kind) => ({ ...kind, value: overview[kind.key].length })));
  countsBox.replaceChildren(...counters.map((counter) => {
    const box = element("div", counter.value > 0 ? "counter raised" : "counter");
    box.dataset.alert = counter.key;
    box.append(element("span", "n", count(counter.value)), element("span", "what", counter.label));
    return box;
  }));

  const lists = ALERT_KINDS.filter((kind) => overview[kind.key].length > 0).map((kind) => {
    const block = element("div", "alert-list");
    block.dataset.alert = kind.key;
    block.append(element("h3", "", kind.label));
    const list = element("ul");
    for (const ref of overview[kind.key].slice(0, LIST_LIMIT)) {
      const item = element("li");
      const head = element("div", "ref-head");
      head.append(orderLink(ref.order_no), temporalLink(ref.order_no));
      const facts = `${ref.customer_code} · ${statusLabel(ref.status)} · since ${moment(ref.since)}`;
      item.append(head, element("div", "muted", facts));
      if (ref.reason) item.append(element("div", "reason", ref.reason));
      list.append(item);
    }
    block.append(list);
    const more = overview[kind.key].length - LIST_LIMIT;
    if (more > 0) block.append(element("p", "muted", `and ${more} more`));
    return block;
  });
  if (lists.length === 0) lists.push(element("p", "empty", "Nothing escalated, expired or held."));
  listsBox.replaceChildren(...lists);
}

/** The orders waiting longest: on whom, since when, for how long. */
export function renderWaiting(tbody, overview) {
  const rows = overview.oldest_waiting.map((entry) => {
    const row = element("tr");
    row.dataset.orderNo = entry.order_no;
    const age = ageSeconds(entry.since);
    cell(row, orderLink(entry.order_no));
    cell(row, statusLabel(entry.status), "status");
    cell(row, entry.customer_code);
    cell(row, entry.waiting_on, "waiting-on");
    cell(row, moment(entry.since));
    const ageCell = cell(row, duration(age), "num age");
    if (age >= 24 * 3600) ageCell.classList.add("late");
    else if (age >= 4 * 3600) ageCell.classList.add("slow");
    cell(row, temporalLink(entry.order_no));
    return row;
  });
  if (rows.length === 0) {
    const row = element("tr");
    const td = cell(row, "No order is waiting on anyone.", "empty");
    td.colSpan = 7;
    rows.push(row);
  }
  tbody.replaceChildren(...rows);
}

/** Per review level: decisions taken, how fast (a bar for the mean), and what stalled. */
export function renderApprovals(tbody, totals, report) {
  const longest = Math.max(1, ...report.levels.map((level) => level.mean_seconds ?? 0));
  const rows = report.levels.map((level) => {
    const row = element("tr");
    row.dataset.level = String(level.level);
    cell(row, String(level.level));
    cell(row, level.role);
    cell(row, count(level.decided), "num");
    const meanCell = cell(row, "", "bar-col");
    const bar = element("span", "mean-bar");
    bar.style.width = `${Math.round(((level.mean_seconds ?? 0) / longest) * 100)}%`;
    meanCell.append(element("span", "mean-text", duration(level.mean_seconds)), bar);
    cell(row, duration(level.p50_seconds), "num");
    cell(row, duration(level.p90_seconds), "num");
    cell(row, count(level.escalated), level.escalated ? "num warn" : "num");
    cell(row, count(level.expired), level.expired ? "num warn" : "num");
    cell(row, count(level.reminders), "num");
    return row;
  });
  if (rows.length === 0) {
    const row = element("tr");
    const td = cell(row, "No review decided in the last 30 days.", "empty");
    td.colSpan = 9;
    rows.push(row);
  }
  tbody.replaceChildren(...rows);
  totals.textContent =
    `Escalations ${count(report.escalations)} · Expiries ${count(report.expiries)} · ` +
    `Reminders sent ${count(report.reminders)} · Decided by a delegate ${percent(report.delegated_share)}`;
}

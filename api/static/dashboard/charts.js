// Plain SVG charts for the dashboard: no library, nothing fetched from anywhere.
// Every shape is built with createElementNS and textContent, never from markup strings.

import { duration } from "./format.js";

const SVG = "http://www.w3.org/2000/svg";

function node(name, attributes = {}, text = null) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) {
    element.setAttribute(key, String(value));
  }
  if (text !== null) element.textContent = text;
  return element;
}

function canvas(width, height, label) {
  return node("svg", {
    viewBox: `0 0 ${width} ${height}`,
    width: "100%",
    role: "img",
    "aria-label": label,
    preserveAspectRatio: "xMinYMin meet",
  });
}

function empty(container, message) {
  const note = document.createElement("p");
  note.className = "empty";
  note.textContent = message;
  container.replaceChildren(note);
}

/** A whole tick step of 1, 2 or 5 times a power of ten, so that `ticks` steps reach `highest`. */
function countStep(highest, ticks) {
  const raw = Math.max(1, highest / ticks);
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const factor of [1, 2, 5, 10]) {
    if (raw <= factor * power) return factor * power;
  }
  return 10 * power;
}

/**
 * Horizontal bars of the mean time spent in each stage, a tick at p90, the bottleneck in red.
 * `stages` come in lifecycle order; stages nobody finished in the period are left out.
 */
export function stageChart(container, report) {
  const stages = report.stages.filter((stage) => stage.count > 0 && stage.mean_seconds !== null);
  if (stages.length === 0) {
    empty(container, "No order finished a stage in the last 30 days.");
    return;
  }
  const bottleneck = report.bottleneck ? report.bottleneck.status : null;
  const width = 640;
  const labelWidth = 140;
  const valueWidth = 195;
  const rowHeight = 30;
  const top = 8;
  const height = top + stages.length * rowHeight + 8;
  const plotWidth = width - labelWidth - valueWidth;
  const longest = Math.max(...stages.map((s) => Math.max(s.mean_seconds, s.p90_seconds ?? 0)));
  const scale = plotWidth / (longest || 1);

  const svg = canvas(width, height, "Mean time spent in each stage; the bottleneck is marked");
  svg.classList.add("stage-chart");
  stages.forEach((stage, index) => {
    const y = top + index * rowHeight;
    const isBottleneck = stage.status === bottleneck;
    const row = node("g", { class: isBottleneck ? "stage bottleneck" : "stage" });
    row.dataset.status = stage.status;
    row.append(
      node("text", { x: labelWidth - 10, y: y + 19, "text-anchor": "end", class: "label" },
        stage.label ? stage.label.en : stage.status),
      node("rect", { x: labelWidth, y: y + 6, width: plotWidth, height: 18, class: "track" }),
      node("rect", {
        x: labelWidth, y: y + 6, width: Math.max(2, stage.mean_seconds * scale), height: 18,
        class: "bar", rx: 2,
      }),
    );
    if (stage.p90_seconds !== null) {
      const x = labelWidth + stage.p90_seconds * scale;
      row.append(node("line", { x1: x, x2: x, y1: y + 3, y2: y + 27, class: "p90" }));
    }
    const orders = `${stage.count} ${stage.count === 1 ? "order" : "orders"}`;
    const summary = `${duration(stage.mean_seconds)} · p90 ${duration(stage.p90_seconds)} · ${orders}`;
    row.append(node("text", { x: labelWidth + plotWidth + 8, y: y + 19, class: "value" }, summary));
    const title = node("title", {},
      `${stage.status}: ${stage.count} finished stays, mean ${duration(stage.mean_seconds)}, ` +
      `p50 ${duration(stage.p50_seconds)}, p90 ${duration(stage.p90_seconds)}, ` +
      `max ${duration(stage.max_seconds)}`);
    row.prepend(title);
    svg.append(row);
  });

  const caption = document.createElement("p");
  caption.className = "chart-caption";
  if (report.bottleneck) {
    const share = Math.round(report.bottleneck.share * 100);
    const name = stages.find((s) => s.status === bottleneck);
    caption.append(badge("Bottleneck", "bottleneck-tag"),
      ` ${name && name.label ? name.label.en : bottleneck}: ${share}% of all time spent in ` +
      `finished stages, ${duration(report.bottleneck.mean_seconds)} on average.`);
  } else {
    caption.textContent = "No bottleneck: too few finished stages to tell.";
  }
  container.replaceChildren(svg, caption);
}

function badge(text, className) {
  const span = document.createElement("span");
  span.className = className;
  span.textContent = text;
  return span;
}

const SERIES = [
  { key: "created", label: "Created" },
  { key: "completed", label: "Completed" },
  { key: "rejected", label: "Rejected" },
  { key: "cancelled", label: "Cancelled" },
];

/** Grouped bars per day: orders created, completed, rejected and cancelled. */
export function throughputChart(container, report) {
  const days = report.data;
  if (days.length === 0) {
    empty(container, "No days in the period.");
    return;
  }
  const width = 640;
  const height = 260;
  const left = 36;
  const right = 8;
  const top = 30;
  const bottom = 34;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const highest = Math.max(...days.flatMap((day) => SERIES.map((s) => day[s.key])));
  const ticks = 4;
  const axisEnd = countStep(highest, ticks) * ticks;
  const slot = plotWidth / days.length;
  const barWidth = Math.max(2, (slot - 6) / SERIES.length);

  const svg = canvas(width, height, "Orders created, completed, rejected and cancelled per day");
  svg.classList.add("throughput-chart");

  SERIES.forEach((series, index) => {
    const x = left + index * 110;
    svg.append(
      node("rect", { x, y: 6, width: 12, height: 12, class: `swatch ${series.key}` }),
      node("text", { x: x + 17, y: 16, class: "legend" }, series.label),
    );
  });
  for (let tick = 0; tick <= ticks; tick += 1) {
    const value = (axisEnd / ticks) * tick;
    const y = top + plotHeight - (value / axisEnd) * plotHeight;
    svg.append(
      node("line", { x1: left, x2: width - right, y1: y, y2: y, class: tick ? "gridline" : "axis" }),
      node("text", { x: left - 6, y: y + 4, "text-anchor": "end", class: "tick" },
        String(value)),
    );
  }
  // A date under every day while they fit (about 14 across), else under every n-th.
  const labelEvery = Math.ceil(days.length / 14);
  days.forEach((day, dayIndex) => {
    const x0 = left + dayIndex * slot + 3;
    const group = node("g", { class: "day" });
    group.dataset.start = day.start;
    group.append(node("title", {},
      `${day.start}: created ${day.created} (CNY ${day.created_value}), completed ` +
      `${day.completed} (CNY ${day.completed_value}), rejected ${day.rejected}, ` +
      `cancelled ${day.cancelled}`));
    SERIES.forEach((series, index) => {
      const value = day[series.key];
      if (value <= 0) return;
      const barHeight = (value / axisEnd) * plotHeight;
      group.append(node("rect", {
        x: x0 + index * barWidth, y: top + plotHeight - barHeight,
        width: barWidth - 1, height: barHeight, class: `bar ${series.key}`,
      }));
    });
    if (dayIndex % labelEvery === 0) {
      group.append(node("text", {
        x: x0 + (slot - 6) / 2, y: height - bottom + 16, "text-anchor": "middle", class: "tick",
      }, day.start.slice(5)));
    }
    svg.append(group);
  });
  container.replaceChildren(svg);
}

// How the dashboard writes durations, money, counts and times.

/** Seconds as a person reads them: "45 s", "12 min", "3.2 h", "2.1 d"; a dash for none. */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "–";
  if (Number.isInteger(seconds) && seconds < 60) return `${seconds} s`;
  if (seconds < 1) return `${seconds.toFixed(2)} s`;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86400) return `${trim(seconds / 3600)} h`;
  return `${trim(seconds / 86400)} d`;
}

function trim(value) {
  return value >= 10 ? String(Math.round(value)) : value.toFixed(1);
}

const MONEY = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const COUNT = new Intl.NumberFormat("en-US");

/** An amount in CNY (the API writes decimals as strings). */
export function money(value) {
  return `CNY ${MONEY.format(Number(value))}`;
}

export function count(value) {
  return COUNT.format(value);
}

/** A share in 0..1 as a percentage; a dash for none. */
export function percent(share) {
  if (share === null || share === undefined) return "–";
  return `${Math.round(share * 100)}%`;
}

/** A moment as local date and time to the minute: "2026-12-01 14:52". */
export function moment(iso) {
  const at = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ` +
    `${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

/** A clock time to the second: "14:52:03". */
export function clock(at) {
  return at.toLocaleTimeString("en-GB", { hour12: false });
}

/** Seconds from `iso` until now. */
export function ageSeconds(iso, now = Date.now()) {
  return Math.max(0, (now - new Date(iso).getTime()) / 1000);
}

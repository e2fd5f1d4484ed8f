// The ops dashboard: staff sign in, then the page reads the analytics API every few seconds.

import { ApiError, dashboardConfig, forgetToken, getJson, isStaff, keepToken, signIn, token } from "./api.js";
import { stageChart, throughputChart } from "./charts.js";
import { clock, duration } from "./format.js";
import { configureLinks, renderAlerts, renderApprovals, renderStatuses, renderWaiting, temporalUrl } from "./panels.js";

const DAY_MS = 24 * 3600 * 1000;
const $ = (id) => document.getElementById(id);

let refreshSeconds = 15;
let timer = null;
let lastLoaded = null;

function show(signedIn) {
  $("sign-in").hidden = signedIn;
  $("board").hidden = !signedIn;
  $("session").hidden = !signedIn;
}

function signInError(message) {
  const box = $("sign-in-error");
  box.textContent = message;
  box.hidden = !message;
}

function signOut(message = "") {
  clearTimeout(timer);
  timer = null;
  forgetToken();
  lastLoaded = null;
  show(false);
  signInError(message);
  $("username").focus();
}

/** The periods the panels cover: 30 days back for durations and approvals, and the last 14
 * whole UTC days (today included) for throughput. */
function periods(now = new Date()) {
  const tomorrow = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return {
    month: { from: new Date(now.getTime() - 30 * DAY_MS).toISOString(), to: now.toISOString() },
    days: {
      from: new Date(tomorrow - 14 * DAY_MS).toISOString(),
      to: new Date(tomorrow).toISOString(),
      bucket: "day",
    },
  };
}

async function load() {
  const { month, days } = periods();
  const [overview, stages, throughput, approvals] = await Promise.all([
    getJson("/analytics/overview"),
    getJson("/analytics/stage-durations", month),
    getJson("/analytics/throughput", days),
    getJson("/analytics/approvals", month),
  ]);
  renderStatuses($("statuses"), overview);
  renderAlerts($("alert-counts"), $("alert-lists"), overview);
  renderWaiting($("waiting").tBodies[0], overview);
  stageChart($("stages-chart"), stages);
  throughputChart($("throughput-chart"), throughput);
  renderApprovals($("approvals").tBodies[0], $("approval-totals"), approvals);
}

/** Load everything, say when, and come back in `refreshSeconds`; a failed load keeps the
 * figures on screen and says since when they are stale. */
async function refresh() {
  clearTimeout(timer);
  try {
    await load();
    lastLoaded = new Date();
    $("load-error").hidden = true;
    const updated = $("updated");
    updated.textContent = `Updated at ${clock(lastLoaded)} · every ${duration(refreshSeconds)}`;
    updated.dataset.at = lastLoaded.toISOString();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      signOut("Your session has ended; sign in again.");
      return;
    }
    const banner = $("load-error");
    const reason = error instanceof ApiError ? error.message : "the API could not be reached";
    banner.textContent = lastLoaded
      ? `Could not refresh (${reason}); showing figures from ${clock(lastLoaded)}.`
      : `Could not load the dashboard: ${reason}.`;
    banner.hidden = false;
  }
  // A click on Refresh while a load is under way ends in two calls here: keep one timer.
  clearTimeout(timer);
  if (token()) timer = setTimeout(refresh, refreshSeconds * 1000);
}

/** Show the board to staff; a customer's token is dropped at once with a clear reason. */
async function enter(bearer) {
  const user = await getJson("/me", null, bearer);
  if (!isStaff(user)) {
    forgetToken();
    show(false);
    signInError("This dashboard is for staff only. Customer accounts cannot open it; " +
      "follow your orders through the order API instead.");
    return;
  }
  keepToken(bearer);
  $("who").textContent = `${user.full_name || user.username} (${user.roles.join(", ")})`;
  signInError("");
  show(true);
  await refresh();
}

async function onSignIn(event) {
  event.preventDefault();
  const button = event.target.querySelector("button");
  button.disabled = true;
  signInError("");
  try {
    const bearer = await signIn($("username").value, $("password").value);
    $("password").value = "";
    await enter(bearer);
  } catch (error) {
    if (!(error instanceof ApiError)) signInError("The API could not be reached; try again.");
    else if (error.status === 401) signInError("Wrong username or password.");
    else if (error.status === 429) signInError(`Too many failed sign-ins; try again in ${error.retryAfter || "a few"} seconds.`);
    else signInError(`Sign-in failed: ${error.message}`);
  } finally {
    button.disabled = false;
  }
}

/** An order number opens the order as the API answers it, fetched with the token. */
async function onOrderLink(event) {
  const link = event.target.closest("a.order-link");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  const orderNo = link.dataset.orderNo;
  $("detail-title").textContent = `Order ${orderNo}`;
  $("detail-temporal").href = temporalUrl(orderNo);
  $("detail-body").textContent = "Loading…";
  $("detail").showModal();
  try {
    const order = await getJson(`/orders/${encodeURIComponent(orderNo)}`);
    $("detail-body").textContent = JSON.stringify(order, null, 2);
  } catch (error) {
    $("detail-body").textContent = `Could not load the order: ${error.message}`;
  }
}

async function boot() {
  $("sign-in-form").addEventListener("submit", onSignIn);
  $("sign-out").addEventListener("click", () => signOut());
  $("refresh").addEventListener("click", () => refresh());
  $("board").addEventListener("click", onOrderLink);
  try {
    const config = await dashboardConfig();
    configureLinks(config);
    refreshSeconds = config.refresh_seconds;
  } catch {
    signInError("The dashboard's settings could not be loaded; reload the page.");
  }
  const kept = token();
  if (!kept) {
    show(false);
    return;
  }
  try {
    await enter(kept);
  } catch {
    signOut("Your session has ended; sign in again.");
  }
}

boot();

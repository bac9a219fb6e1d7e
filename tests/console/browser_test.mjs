// The console in Debian's chromium (driven by playwright-core over the DevTools protocol), against
// the stack browser_test.sh started. Signs in, watches a published lead arrive in Live, opens
// its explanation, pauses a rep and sees the next lead skip them (and the trace say why), returns
// a lead and sees it re-routed, resolves a claim conflict, and checks that a stream-only token
// gets no admin controls and is refused by the server. Fails on any console error or failed
// request. Screenshots go to $ARTIFACTS.
import { execFileSync } from "node:child_process";
import { strict as assert } from "node:assert";
import { chromium } from "playwright-core";

const { CONSOLE_URL, ADMIN_TOKEN, VIEWER_TOKEN, KAFKA_BOOTSTRAP, ARTIFACTS } = process.env;
for (const [name, value] of Object.entries({ CONSOLE_URL, ADMIN_TOKEN, VIEWER_TOKEN, KAFKA_BOOTSTRAP, ARTIFACTS })) {
  if (!value) throw new Error(`${name} is not set (run tests/console/browser_test.sh)`);
}
const run = Date.now().toString(36);

/** A lead the example config qualifies and routes to the americas pool (rep-ada, rep-grace). */
function publishLead(n) {
  const id = `ui-${run}-${n}`;
  const domain = `buyer${n}-${run}.example`;
  const lead = {
    event_id: id, occurred_at: new Date().toISOString(), source_system: "hubspot",
    source_kind: "LEAD_SOURCE_KIND_INBOUND_MARKETING", campaign: "q4-demo-request",
    person: { first_name: "Uma", last_name: `Tester${n}`, email: `uma${n}@${domain}`, title: "VP Sales Operations" },
    company: { name: `Buyer ${n} ${run}`, website: `https://${domain}`, industry: "Wholesale", employee_count: 1200,
      annual_revenue_usd: 250000000, location_count: 14, country: "US", region: "WA" },
    psychographics: { buying_priority: "BUYING_PRIORITY_VALUE", innovation_appetite: "INNOVATION_APPETITE_EARLY_ADOPTER", intent_score: 82 },
  };
  execFileSync("kcat", ["-P", "-b", KAFKA_BOOTSTRAP, "-t", "leads.inbound", "-H", "content-type=application/json"],
    { input: `${JSON.stringify(lead)}\n` });
  return { id, company: lead.company.name, publishedAt: Date.now() };
}

const problems = [];
/** Records console errors, page errors and failed requests of a page; `allowed` lists expected refusals. */
function watch(page, label, allowed = []) {
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    // Chromium logs every 4xx as "Failed to load resource"; the expected ones are not problems.
    const expected = allowed.some((key) => message.text().includes(`status of ${key.split(" ").pop()}`));
    if (!expected) problems.push(`${label} console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`${label} page error: ${error.message}`));
  page.on("requestfailed", (request) => {
    // The live feed is aborted when a page closes; that is not a failure.
    if (request.url().includes("/console/api/live")) return;
    problems.push(`${label} request failed: ${request.method()} ${request.url()} ${request.failure()?.errorText}`);
  });
  page.on("response", (response) => {
    if (response.status() < 400) return;
    const key = `${response.request().method()} ${new URL(response.url()).pathname} ${response.status()}`;
    if (!allowed.includes(key)) problems.push(`${label} HTTP ${key}`);
  });
}

async function shot(page, name) {
  await page.screenshot({ path: `${ARTIFACTS}/${name}.png` });
}

async function signIn(page, token) {
  await page.goto(CONSOLE_URL);
  await page.locator("#signin-form").waitFor();
  await page.fill("#token", token);
  await page.click("#signin-form button[type=submit]");
  await page.locator("#nav").waitFor();
}

/** The live row of a published lead, waited for; returns its lead id and how long it took. */
async function liveRow(page, published) {
  const row = page.locator("#live-rows tr", { hasText: published.company }).first();
  await row.waitFor({ timeout: 15000 });
  const latency = Date.now() - published.publishedAt;
  return { row, leadId: await row.getAttribute("data-lead"), latency };
}

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
try {
  const admin = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  watch(admin, "admin");
  await admin.goto(CONSOLE_URL);
  await admin.locator("#signin-form").waitFor();
  await shot(admin, "01-sign-in");
  await signIn(admin, ADMIN_TOKEN);
  assert.equal(await admin.textContent("#principal"), "token:sales-ops");
  await admin.locator("#live-indicator .status-dot.on").waitFor();

  // Live: a published lead appears (the feed polls the shared log).
  const first = publishLead(1);
  const seen = await liveRow(admin, first);
  console.log(`live: lead visible ${seen.latency} ms after the broker acknowledged it`);
  await shot(admin, "02-live");

  // Lead: its explanation.
  await seen.row.locator("a").first().click();
  await admin.locator("#lead-trace tbody tr").first().waitFor();
  assert.equal(await admin.textContent("#lead-id"), seen.leadId);
  const firstRep = (await admin.textContent("#lead-rep")).split(" ")[0];
  assert.match(firstRep, /^rep-(ada|grace)$/);
  assert.ok(await admin.locator("#lead-rules tbody tr").count() > 0, "qualification rules shown");
  await shot(admin, "03-lead");

  // Reps: pause the rep who got it; the next lead skips them and the trace says why.
  await admin.click('nav a[data-view="reps"]');
  const repRow = admin.locator(`#reps-table tr[data-rep="${firstRep}"]`);
  await repRow.locator('button[data-action="pause"]').click();
  await repRow.locator('button[data-action="resume"]').waitFor();
  await shot(admin, "04-reps");
  await admin.click('nav a[data-view="live"]');
  const second = publishLead(2);
  const next = await liveRow(admin, second);
  console.log(`live: the next lead visible ${next.latency} ms after`);
  await next.row.locator("a").first().click();
  await admin.locator("#lead-trace tbody tr").first().waitFor();
  const secondRep = (await admin.textContent("#lead-rep")).split(" ")[0];
  assert.notEqual(secondRep, firstRep, "the paused rep is skipped");
  const skip = admin.locator("#lead-trace tbody tr", { hasText: firstRep }).filter({ hasText: "paused" });
  assert.equal(await skip.count(), 1, `the trace says ${firstRep} was skipped because paused`);

  // Return it: it is routed again, to someone else, and the history shows both.
  await admin.selectOption("#return-reason", "RETURN_REASON_NOT_READY");
  await admin.click("#return-form button[type=submit]");
  await admin.locator("#lead-history tbody tr", { hasText: "returned" }).waitFor();
  const afterReturn = (await admin.textContent("#lead-rep")).split(" ")[0];
  assert.notEqual(afterReturn, secondRep, "a returned lead goes to another rep");
  assert.match(await admin.textContent("#lead-status"), /assigned|unassigned/);
  await shot(admin, "05-returned");

  // Claims: award the open conflict to the claimant.
  await admin.click('nav a[data-view="claims"]');
  const conflict = admin.locator('#conflicts-table tr[data-domain="fabrikam.example"]');
  await conflict.waitFor();
  await conflict.getByRole("button", { name: "Award claimant" }).click();
  await admin.locator('#conflicts-table tr[data-domain="fabrikam.example"]', { hasText: "claimant awarded" }).waitFor();
  await shot(admin, "06-claims");

  // The queue view loads.
  await admin.click('nav a[data-view="queue"]');
  await admin.locator("#queue-table").waitFor();

  // A stream-only token: no admin controls, and the server refuses the call anyway.
  const viewer = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  watch(viewer, "viewer", ["POST /console/api/reps/rep-ada/availability 403"]);
  await signIn(viewer, VIEWER_TOKEN);
  await viewer.click('nav a[data-view="reps"]');
  await viewer.locator("#reps-table").waitFor();
  assert.equal(await viewer.locator("#reps-table button").count(), 0, "no buttons for a stream-only token");
  assert.match(await viewer.textContent("#reps-note"), /admin scope/);
  const refused = await viewer.evaluate(async (token) => {
    const response = await fetch("/console/api/reps/rep-ada/availability", {
      method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ paused: true }),
    });
    return { status: response.status, body: await response.json() };
  }, VIEWER_TOKEN);
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error.code, "PERMISSION_DENIED");
  await shot(viewer, "07-viewer-reps");
} finally {
  await browser.close();
}
assert.deepEqual(problems, [], "no console errors and no failed requests");
console.log("console browser test: ok");

import { test, expect, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { readFileSync } from "fs";

async function hydrated(page: Page) {
  // The app marks <body> once the wasm has taken over the server-rendered page.
  await expect(page.locator("body[data-hydrated='true']")).toHaveCount(1, { timeout: 15_000 });
}

async function signIn(page: Page, role = "viewer") {
  await page.goto("/auth/demo");
  await page.getByRole("button", { name: new RegExp(`^Sign in as ${role}`) }).click();
  await expect(page.locator("#whoami-user")).toHaveText(`demo-${role}`);
}

async function noSeriousA11yViolations(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(serious.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
}

test("pages need a sign-in; the demo picker signs in", async ({ page }) => {
  await page.goto("/teams/payments");
  await expect(page).toHaveURL(/\/auth\/demo\?return_to=%2Fteams%2Fpayments/);
  await page.getByRole("button", { name: "Sign in as developer of team payments" }).click();
  await expect(page).toHaveURL(/\/teams\/payments$/);
  await expect(page.locator("#whoami-user")).toHaveText("demo-developer");
  // Another team's details are refused with a clear page.
  const resp = await page.goto("/teams/storefront");
  expect(resp?.status()).toBe(403);
  await expect(page.getByRole("heading", { name: "You may not see this page" })).toBeVisible();
  await page.screenshot({ path: "screenshots/forbidden.png" });
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("heading", { name: "Signed out" })).toBeVisible();
});

/** Nothing on the page is wider than the window (the page never scrolls sideways). */
async function fitsTheWindow(page: Page) {
  const [scroll, width] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  expect(scroll, "the page scrolls sideways").toBeLessThanOrEqual(width);
}

test("the overview puts compliance first: teams ranked worst first, campaigns and their deadlines", async ({ page }) => {
  await signIn(page);
  await page.goto("/");
  await expect(page).toHaveTitle(/Overview · Drydock/);
  await expect(page.getByRole("heading", { name: "Estate overview" })).toBeVisible();
  await expect(page.locator(".demo-banner")).toContainText("Demo mode");
  // Demo estate: 9 images (one report names no image).
  await expect(page.locator("a.stat").filter({ has: page.locator(".stat-label", { hasText: /^images$/ }) }).locator(".stat-value")).toHaveText("9");
  await expect(page.locator("#estate-score")).toHaveAttribute("data-score", /^\d+$/);
  const rows = page.locator("#team-scores tbody tr");
  expect(await rows.count()).toBeGreaterThanOrEqual(4);
  const scores = (await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-score") ?? ""))).filter((s) => s !== "").map(Number);
  expect(scores).toEqual([...scores].sort((a, b) => a - b));
  await expect(page.getByRole("heading", { name: "Next deadlines" })).toBeVisible();
  await expect(page.locator(".campaign-lines li").first()).toContainText("done");
  await hydrated(page);
  await fitsTheWindow(page);
  await page.screenshot({ path: "screenshots/overview.png", fullPage: true });
  await noSeriousA11yViolations(page);
});

test("a manager lands on their team's card: score, grade, trend, what is late", async ({ page }) => {
  await page.goto("/auth/demo");
  await page.getByRole("button", { name: /^Sign in as manager/ }).click();
  await expect(page).toHaveURL(/\/my-teams$/);
  const card = page.locator("article.team-card");
  await expect(card).toHaveCount(1);
  await expect(card).toHaveAttribute("data-team", "payments");
  await expect(card).toHaveAttribute("data-grade", /^[ABCDF]$/);
  await expect(card.locator("figure.spark svg")).toHaveCount(1);
  await expect(card.locator(".card-late")).toContainText("overdue");
  await expect(card.getByRole("link", { name: "Scorecard" })).toHaveAttribute("href", "/scorecards/payments");
  await hydrated(page);
  await fitsTheWindow(page);
  await page.screenshot({ path: "screenshots/my-teams.png", fullPage: true });
  await noSeriousA11yViolations(page);
});

test("fix these first: vulnerabilities ranked by exposure with the formula on the page", async ({ page }) => {
  test.setTimeout(120_000);
  await signIn(page, "security");
  // The ranking job runs within a minute of the demo's last change; the page says so until then.
  await expect(async () => {
    await page.goto("/risk");
    await expect(page.locator("#risk tbody tr").first()).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 90_000 });
  await expect(page.getByRole("heading", { level: 1, name: "Fix these first" })).toBeVisible();
  await expect(page.locator("#risk-formula")).toContainText("S × T × E");
  const scores = await page.locator("#risk tbody tr").evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute("data-score"))));
  expect(scores).toEqual([...scores].sort((a, b) => b - a));
  await hydrated(page);
  await fitsTheWindow(page);
  await page.screenshot({ path: "screenshots/risk.png", fullPage: true });
  await noSeriousA11yViolations(page);
});

test("the checklist answers each question with its evidence, exports CSV and prints to PDF", async ({ page }) => {
  await signIn(page, "security");
  await page.goto("/checklist");
  await expect(page.getByRole("heading", { level: 1, name: "The enterprise Docker checklist" })).toBeVisible();
  await expect(page.locator("#check-secrets")).toHaveAttribute("data-status", "attention");
  await expect(page.locator("#check-registry-rbac")).toHaveAttribute("data-status", "unknown");
  await expect(page.locator("#check-shellshock a").first()).toHaveAttribute("href", /^\/search\?package=/);
  await hydrated(page);
  await fitsTheWindow(page);
  await page.screenshot({ path: "screenshots/checklist.png", fullPage: true });
  await noSeriousA11yViolations(page);
  const csv = await page.request.get("/checklist.csv");
  expect(csv.headers()["content-type"]).toBe("text/csv; charset=utf-8");
  expect((await csv.text()).split("\r\n")[0]).toBe("id,section,question,status,answer,figures,evidence");
  await page.emulateMedia({ media: "print" });
  await expect(page.locator(".sidenav")).toBeHidden();
  await page.screenshot({ path: "screenshots/checklist-print.png", fullPage: true });
  const pdf = await page.pdf({ path: "screenshots/checklist.pdf", format: "A4", printBackground: true });
  expect(pdf.length).toBeGreaterThan(10_000);
});

test("an auditor lands on the evidence page and downloads a day's signed bundle without JavaScript", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/auth/demo");
  await page.getByRole("button", { name: /^Sign in as auditor/ }).click();
  await expect(page).toHaveURL(/\/evidence$/);
  await expect(page.getByRole("heading", { level: 1, name: "Evidence for auditors" })).toBeVisible();
  const day = await page.locator("#ev-at").inputValue();
  expect(day).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  await page.getByRole("checkbox", { name: "payments" }).check();
  await fitsTheWindow(page);
  await page.screenshot({ path: "screenshots/evidence.png", fullPage: true });
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download the bundle" }).click()]);
  expect(download.suggestedFilename()).toBe(`drydock-evidence-${day}.tar.gz`);
  const bytes = readFileSync(await download.path());
  expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
  // The export is listed (the ledger recorded it) with the team asked for.
  await page.goto("/evidence");
  await expect(page.locator("table").last()).toContainText("payments");
  await context.close();
});

test("the teams list filters as you type once hydrated", async ({ page }) => {
  await signIn(page);
  await page.goto("/teams");
  const rows = page.locator("#teams-table tr.team-row");
  await expect(rows).toHaveCount(4);
  await hydrated(page);
  await page.getByLabel("Filter teams").fill("pay");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("Payments");
  await page.getByLabel("Filter teams").fill("no-such-team");
  await expect(rows).toHaveCount(0);
  await expect(page.getByText("No team matches this filter.")).toBeVisible();
  await page.getByLabel("Filter teams").fill("");
  await expect(rows).toHaveCount(4);
  await noSeriousA11yViolations(page);
});

test("the filter works without JavaScript as a GET form", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  // Sign-in and the filter are plain forms: both work with JavaScript off.
  await signIn(page);
  await page.goto("/teams?q=data");
  await expect(page.locator("#teams-table tr.team-row")).toHaveCount(1);
  await expect(page.locator("#teams-table")).toContainText("Data & Analytics");
  // The homes render completely without JavaScript too.
  await page.goto("/");
  await expect(page.locator("#team-scores tbody tr").first()).toBeVisible();
  await page.goto("/my-teams");
  await expect(page.locator("article.team-card").first()).toBeVisible();
  await context.close();
});

test("team page lists its images worst first", async ({ page }) => {
  await signIn(page);
  await page.goto("/teams");
  await hydrated(page);
  await page.getByRole("link", { name: "Storefront" }).click();
  await expect(page).toHaveURL(/\/teams\/storefront$/);
  await expect(page.getByRole("heading", { level: 1, name: "Storefront" })).toBeVisible();
  const images = page.locator("#team-images tbody tr");
  await expect(images).toHaveCount(1);
  await expect(images.first()).toContainText("docker.io/bkimminich/juice-shop:v10.2.0");
  await expect(images.first()).toContainText("25");

  await page.goto("/teams/payments");
  await expect(page.getByRole("heading", { level: 1, name: "Payments" })).toBeVisible();
  const payments = page.locator("#team-images tbody tr");
  await expect(payments).toHaveCount(3);
  // Worst first: the images with a critical finding come before the one without.
  const firstCriticals = await payments.nth(0).locator("td.num").first().textContent();
  const lastCriticals = await payments.nth(2).locator("td.num").first().textContent();
  expect(Number(firstCriticals)).toBeGreaterThanOrEqual(Number(lastCriticals));
  await page.screenshot({ path: "screenshots/team.png", fullPage: true });
  await noSeriousA11yViolations(page);
});

test("image page shows findings with a live filter", async ({ page }) => {
  await signIn(page);
  await page.goto("/teams/storefront");
  await page.locator("#team-images a.image-link").first().click();
  await expect(page).toHaveURL(/\/images\/sha256:b1802758/);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("juice-shop");
  const rows = page.locator("#findings tbody tr");
  await expect(rows).toHaveCount(236);
  await hydrated(page);
  await page.getByLabel("Filter by vulnerability or package").fill("CVE-2021-36159");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("apk-tools");
  await expect(page.locator("#finding-count")).toHaveText("Showing 1 of 236 open findings");
  await page.getByLabel("Filter by vulnerability or package").fill("");
  await expect(page.locator("#scan-state")).toContainText("scanned by trivy");
  await expect(page.locator("#signature")).toHaveText("not signed");
  // The package inventory, searchable.
  await page.getByLabel("Search packages").fill("apk-tools");
  await expect(page.locator("#packages tbody tr").first()).toContainText("apk-tools");
  await expect(page.locator("#package-count")).toContainText(/Showing [1-9]\d* of \d+ packages/);
  await page.screenshot({ path: "screenshots/image.png" });
});

test("admins add a registry with a plain form; its status shows on the Registries page", async ({ page }) => {
  await signIn(page, "admin");
  await page.goto("/registries");
  await expect(page.getByRole("heading", { level: 1, name: "Registries" })).toBeVisible();
  await expect(page.getByText("No registry is configured.")).toBeVisible();
  await page.getByLabel("Name", { exact: true }).fill("unreachable");
  await page.getByLabel("Base URL").fill("http://127.0.0.1:9");
  await page.getByLabel("Approved registry").check();
  await page.getByRole("button", { name: "Add registry" }).click();
  await expect(page).toHaveURL(/\/registries$/);
  await expect(page.getByRole("heading", { level: 2, name: "unreachable" })).toBeVisible();
  // The first collection runs in the background and fails: the page says so, with the error.
  await expect(async () => {
    await page.reload();
    await expect(page.locator(".error", { hasText: "Last error" })).toContainText("unreachable");
  }).toPass({ timeout: 15_000 });
  await expect(page.getByRole("button", { name: "Remove unreachable from the approved list" })).toBeVisible();
  await page.screenshot({ path: "screenshots/registries.png", fullPage: true });
  await noSeriousA11yViolations(page);
});

test("what runs: workloads filter and sort without JavaScript; unaccounted lists images not in any registry", async ({ page }) => {
  await signIn(page);
  // The demo estate holds a real minikube node's kubelet /pods: 24 containers, 17 running.
  await page.goto("/workloads?cluster=minikube");
  await expect(page.locator("#workload-count")).toHaveText("24 containers");
  await page.goto("/workloads?cluster=minikube&state=running");
  await expect(page.locator("#workload-count")).toHaveText("17 containers");
  await page.getByRole("link", { name: "State", exact: true }).click();
  await expect(page).toHaveURL(/sort=state/);
  await expect(page.locator("#workloads tbody tr")).toHaveCount(17);
  await page.screenshot({ path: "screenshots/workloads.png", fullPage: true });
  await noSeriousA11yViolations(page);

  await page.goto("/unaccounted");
  await expect(page.getByRole("heading", { level: 1, name: "Unaccounted" })).toBeVisible();
  const rows = page.locator("#unaccounted tbody tr");
  await expect(rows.first()).toContainText("not in any configured registry");
  await expect(page.locator("#unaccounted")).toContainText("minikube / kube-system");
  await page.screenshot({ path: "screenshots/unaccounted.png", fullPage: true });
  await noSeriousA11yViolations(page);

  await page.goto("/clusters");
  await expect(page.getByRole("heading", { level: 2, name: "minikube" })).toBeVisible();
  await page.screenshot({ path: "screenshots/clusters.png", fullPage: true });
});

test("the ledger verifies and an image's forensics page tells its story", async ({ page }) => {
  await signIn(page, "security");
  await page.goto("/ledger");
  await expect(page.locator("#verify-result")).toContainText("Verified: all");
  await expect(page.locator("#checkpoint")).toContainText("drydock.audit.ledger/v1");
  await expect(page.locator("#ledger-entries tbody tr").first()).toBeVisible();
  await page.screenshot({ path: "screenshots/ledger.png", fullPage: true });
  await noSeriousA11yViolations(page);

  await page.goto("/teams/storefront");
  await page.locator("#team-images a.image-link").first().click();
  await page.locator("#forensics-link").click();
  await expect(page).toHaveURL(/\/forensics\/image\/sha256:b1802758/);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Forensics");
  await expect(page.locator("#image-ledger")).toContainText("scan.ingested");
  await page.screenshot({ path: "screenshots/forensics.png", fullPage: true });
  await noSeriousA11yViolations(page);
});

test("security binds an ingest token to a cluster; the admin's Users page ends a person's sessions", async ({ browser }) => {
  // A viewer signs in in one browser…
  const viewerContext = await browser.newContext();
  const viewer = await viewerContext.newPage();
  await signIn(viewer, "viewer");
  // …security creates a least-privilege ingest token with a plain form, in another.
  const securityContext = await browser.newContext({ javaScriptEnabled: false });
  const security = await securityContext.newPage();
  await signIn(security, "security");
  await security.goto("/admin/tokens");
  await security.getByLabel("Name").fill("edge-agent");
  await security.getByLabel("Role").selectOption("ingest");
  await security.getByLabel(/clusters it may post/).fill("edge-1, edge-2");
  await security.getByRole("button", { name: "Create token" }).click();
  await expect(security.locator("#new-token")).toContainText("ddk_");
  await security.goto("/admin/tokens");
  const row = security.locator("#tokens tr", { hasText: "edge-agent" });
  await expect(row).toContainText("clusters edge-1, edge-2");
  await security.screenshot({ path: "screenshots/tokens.png", fullPage: true });
  // Security sees no Users page; the admin does, and ends the viewer's sessions.
  expect((await security.goto("/admin/users"))?.status()).toBe(403);
  await securityContext.close();
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signIn(admin, "admin");
  await admin.goto("/admin/users");
  const viewerRow = admin.locator("#users tr", { hasText: "demo-viewer" });
  await expect(viewerRow.locator("td.num")).not.toHaveText("0");
  await admin.screenshot({ path: "screenshots/users.png", fullPage: true });
  await viewerRow.getByRole("button", { name: /End demo-viewer's sessions/ }).click();
  await expect(admin.locator("#users tr", { hasText: "demo-viewer" }).locator("td.num")).toHaveText("0");
  await noSeriousA11yViolations(admin);
  // The viewer's next page asks for a sign-in.
  await viewer.goto("/images");
  await expect(viewer).toHaveURL(/\/auth\/demo/);
  await viewerContext.close();
  await adminContext.close();
});

test("the admin's Jobs page shows each background job's schedule and its runs; others may not see it", async ({ page }) => {
  await signIn(page, "viewer");
  expect((await page.goto("/admin/jobs"))?.status()).toBe(403);
  await page.getByRole("button", { name: "Sign out" }).click();
  await signIn(page, "admin");
  await page.goto("/admin/jobs");
  await expect(page.getByRole("heading", { name: "Jobs", exact: true })).toBeVisible();
  // serve's worker ran the estate-wide jobs when it started: each has a row, verified ok.
  for (const kind of ["ledger.verify", "ledger.checkpoint", "session.purge"]) {
    await expect(page.locator("#jobs tr", { hasText: kind })).toHaveCount(1);
  }
  await expect(page.locator("#jobs tr", { hasText: "ledger.verify" }).locator("td.ok")).toHaveText("ok");
  await expect(page.locator("#job-runs tr", { hasText: "ledger.verify" }).first()).toContainText("ok");
  await page.screenshot({ path: "screenshots/jobs.png", fullPage: true });
  await noSeriousA11yViolations(page);
});

test("estate search: by CVE with KEV, by Debian package and version range, a bad range explained", async ({ page }) => {
  await signIn(page);
  await page.goto("/search");
  await expect(page.getByRole("heading", { level: 2, name: "How to ask" })).toBeVisible();
  await page.getByLabel("Vulnerability").fill("CVE-2022-22965");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(/cve=CVE-2022-22965/);
  await expect(page.locator("#search-results tbody tr")).toHaveCount(1);
  await expect(page.locator("#search-results")).toContainText("pkg:maven/org.springframework/spring-beans");
  await expect(page.locator("#search-results")).toContainText("KEV");
  await page.screenshot({ path: "screenshots/search-cve.png", fullPage: true });
  await noSeriousA11yViolations(page);

  // The demo's distroless image has openssl 1.1.0k-1~deb9u1, below 1.1.1d in dpkg's order.
  await page.goto("/search?package=pkg%3Adeb%2Fdebian%2Fopenssl&range=vers%3Adeb%2F%3C1.1.1d");
  await expect(page.locator("#search-results tbody tr")).toHaveCount(1);
  await expect(page.locator("#search-results")).toContainText("1.1.0k-1~deb9u1");
  await page.goto("/search?package=pkg%3Adeb%2Fdebian%2Fopenssl&range=vers%3Adeb%2F%3C1.1.0k-1~deb9u1");
  await expect(page.locator("#search-count")).toHaveText("0 images you may see");
  await page.screenshot({ path: "screenshots/search-range.png", fullPage: true });

  await page.goto("/search?package=pkg%3Adeb%2Fdebian%2Fopenssl&range=deb%3C1.0");
  await expect(page.locator("main")).toContainText("not a vers: URI");
});

test("scorecards: the ranking, a team's card with its trend chart and failing subjects, the policies page", async ({ page }) => {
  const csp: string[] = [];
  page.on("console", (m) => { if (m.type() === "error" && /Content Security Policy/i.test(m.text())) csp.push(m.text()); });
  await signIn(page, "manager");
  await page.goto("/scorecards");
  await expect(page.getByRole("heading", { level: 1, name: "Scorecards" })).toBeVisible();
  await expect(page.locator("#scorecards tbody tr").first()).toBeVisible();
  await page.screenshot({ path: "screenshots/scorecards.png", fullPage: true });
  await noSeriousA11yViolations(page);
  await page.goto("/scorecards/payments");
  await expect(page.locator("#team-score")).toHaveText(/^\d+$/);
  await expect(page.locator("#trend svg")).toHaveCount(1);
  await expect(page.locator("#trend figcaption")).toContainText("days recorded");
  await expect(page.locator("#failing-subjects")).toContainText("fraud-scoring");
  await hydrated(page);
  await fitsTheWindow(page);
  await page.screenshot({ path: "screenshots/scorecard-payments.png", fullPage: true });
  await noSeriousA11yViolations(page);
  expect(csp).toEqual([]);
  await page.getByRole("link", { name: "Scorecards" }).first().click();
  await expect(page).toHaveURL(/\/scorecards$/);

  await page.goto("/policies");
  await expect(page.getByRole("heading", { level: 2, name: "Vulnerabilities fixed within the SLA" })).toBeVisible();
  await page.screenshot({ path: "screenshots/policies.png", fullPage: true });
});

test("security edits a policy's parameters as typed fields without JavaScript", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, "security");
  await page.goto("/policies");
  const sla = page.locator("#policy-vulnerability-sla");
  await expect(sla.locator("textarea")).toHaveCount(0);
  await sla.getByLabel("Critical: days to fix").fill("5");
  await sla.getByRole("button", { name: "Save" }).click();
  await expect(page).toHaveURL(/\/policies$/);
  await expect(page.locator("#policy-vulnerability-sla").getByLabel("Critical: days to fix")).toHaveValue("5");
  const deny = page.locator("#policy-denylisted-packages");
  await expect(deny.locator("tbody tr").first().locator("input").first()).not.toHaveValue("");
  await page.screenshot({ path: "screenshots/policies-edit.png", fullPage: true });
  // A wrong value is refused naming the field.
  await page.goto("/policies");
  await page.locator("#policy-scan-freshness").getByLabel("Scanned within (days)").fill("0");
  await page.locator("#policy-scan-freshness").getByRole("button", { name: "Save" }).click();
  await expect(page.locator("body")).toContainText("max_age_days");
  await context.close();
});

test("campaigns: a developer lands on the required updates and acknowledges without JavaScript; security sees the burndown", async ({ browser }) => {
  const devContext = await browser.newContext({ javaScriptEnabled: false });
  const dev = await devContext.newPage();
  await signIn(dev, "developer");
  await expect(dev).toHaveURL(/\/updates$/);
  await expect(dev.getByRole("heading", { level: 1, name: "My team's required updates" })).toBeVisible();
  const nav = dev.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: "Required updates" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "API tokens" })).toHaveCount(0);
  await expect(nav.getByRole("link", { name: "Role mapping" })).toHaveCount(0);
  const row = dev.locator("#items tr", { hasText: "Spring4Shell" });
  // A plan is today to two years ahead: forty days from now.
  const planned = new Date(Date.now() + 40 * 86_400_000).toISOString().slice(0, 10);
  await row.getByLabel("Planned").fill(planned);
  await row.locator(".ack-form").getByLabel("Note").fill("rebuild on the jre17 base");
  await row.getByRole("button", { name: "Acknowledge" }).click();
  await expect(dev).toHaveURL(/\/updates$/);
  const acked = dev.locator("#items tr", { hasText: "Spring4Shell" });
  await expect(acked.locator("td.state")).toHaveText("acknowledged");
  await expect(acked).toContainText(`planned ${planned}: rebuild on the jre17 base`);
  await dev.screenshot({ path: "screenshots/required-updates.png", fullPage: true });
  await devContext.close();

  const page = await (await browser.newContext()).newPage();
  const csp: string[] = [];
  page.on("console", (m) => { if (m.type() === "error" && /Content Security Policy/i.test(m.text())) csp.push(m.text()); });
  await signIn(page, "security");
  await expect(page).toHaveURL(/\/campaigns$/);
  await page.getByRole("link", { name: "Spring4Shell (CVE-2022-22965)" }).click();
  await expect(page.locator("#burndown svg")).toHaveCount(1);
  await expect(page.locator("#burndown figcaption")).toContainText("Items not yet fixed");
  await expect(page.locator("#items")).toContainText("acknowledged");
  await hydrated(page);
  await page.screenshot({ path: "screenshots/campaign.png", fullPage: true });
  await noSeriousA11yViolations(page);
  // The item lists (axe needs JavaScript; the developer's page above had none).
  for (const path of ["/updates", "/exceptions", "/campaigns"]) {
    await page.goto(path);
    await hydrated(page);
    await noSeriousA11yViolations(page);
  }
  expect(csp).toEqual([]);
});

import { test, expect } from "@playwright/test";

// Drydock configured with a real OpenID Connect provider (npm oidc-provider, started by
// playwright.config.ts); dev-a is in group team-a-dev, which DRYDOCK_GROUP_ROLES maps to
// developer of team-a.
const rp = `http://127.0.0.1:${process.env.DRYDOCK_E2E_RP_PORT ?? 3919}`;

test("sign in with OIDC as a developer of team A, see team A, get 403 on a security page, sign out", async ({ page }) => {
  await page.goto(`${rp}/teams/team-a`);
  // Sent to the provider's login form.
  await expect(page.locator("input[name=login]")).toBeVisible();
  await page.fill("input[name=login]", "dev-a");
  await page.fill("input[name=password]", "any-password");
  await page.click("button.login-submit");
  // First sign-in: the provider asks for consent.
  const consent = page.getByRole("button", { name: /continue/i });
  if (await consent.isVisible({ timeout: 5_000 }).catch(() => false)) {
    await consent.click();
  }
  await expect(page).toHaveURL(`${rp}/teams/team-a`);
  await expect(page.locator("#whoami-user")).toHaveText("dev-a");
  await expect(page.getByRole("heading", { level: 1, name: "team-a" })).toBeVisible();
  await page.goto(`${rp}/`);
  await expect(page.getByRole("heading", { name: "Estate overview" })).toBeVisible();
  await page.screenshot({ path: "screenshots/oidc-overview.png", fullPage: true });

  const resp = await page.goto(`${rp}/admin/tokens`);
  expect(resp?.status()).toBe(403);
  await expect(page.getByRole("heading", { name: "You may not see this page" })).toBeVisible();
  await page.screenshot({ path: "screenshots/oidc-403.png" });

  await page.getByRole("button", { name: "Sign out" }).click();
  // The provider's end-session page asks to confirm, then returns to Drydock.
  const yes = page.getByRole("button", { name: /yes|sign me out|logout/i });
  if (await yes.isVisible({ timeout: 5_000 }).catch(() => false)) {
    await yes.click();
  }
  // Drydock's session is gone: a page request is sent to sign in again.
  const after = await page.request.get(`${rp}/`, { maxRedirects: 0 });
  expect(after.status()).toBe(303);
  expect(after.headers()["location"]).toContain("/auth/login");
});

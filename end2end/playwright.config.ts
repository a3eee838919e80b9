import { defineConfig } from "@playwright/test";
import * as os from "os";
import * as path from "path";
import * as fs from "fs";

// The server under test: the release binary cargo-leptos built, on a fresh SQLite file, with the
// demo estate. DRYDOCK_BIN / DRYDOCK_SITE_ROOT let .ci/run point at a shared target directory.
const root = path.resolve(__dirname, "..");
const bin = process.env.DRYDOCK_BIN ?? path.join(root, "target", "release", "drydock");
const siteRoot = process.env.DRYDOCK_SITE_ROOT ?? path.join(root, "target", "site");
const port = Number(process.env.DRYDOCK_E2E_PORT ?? 3917);
const oidcPort = Number(process.env.DRYDOCK_E2E_OIDC_PORT ?? 3918);
const rpPort = Number(process.env.DRYDOCK_E2E_RP_PORT ?? 3919);
const dbDir = fs.mkdtempSync(path.join(os.tmpdir(), "drydock-e2e-"));

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  retries: 0,
  workers: 1,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: [
    {
      command: `"${bin}" serve --demo --addr 127.0.0.1:${port} --database-url "sqlite://${dbDir}/e2e.db"`,
      cwd: root,
      env: { DRYDOCK_SITE_ROOT: siteRoot, RUST_LOG: "warn" },
      url: `http://127.0.0.1:${port}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "pipe",
      stderr: "pipe",
    },
    // A real OIDC provider (npm oidc-provider) and a Drydock signing in with it.
    {
      command: "node oidc/provider.mjs",
      cwd: __dirname,
      env: { OIDC_PORT: String(oidcPort), OIDC_RP: `http://127.0.0.1:${rpPort}` },
      url: `http://127.0.0.1:${oidcPort}/.well-known/openid-configuration`,
      reuseExistingServer: false,
      timeout: 30_000,
    },
    {
      command: `"${bin}" serve --addr 127.0.0.1:${rpPort} --database-url "sqlite://${dbDir}/oidc.db"`,
      cwd: root,
      env: {
        DRYDOCK_SITE_ROOT: siteRoot,
        RUST_LOG: "warn",
        DRYDOCK_OIDC_ISSUER: `http://127.0.0.1:${oidcPort}`,
        DRYDOCK_OIDC_CLIENT_ID: "drydock",
        DRYDOCK_OIDC_CLIENT_SECRET: "drydock-test-secret",
        DRYDOCK_PUBLIC_URL: `http://127.0.0.1:${rpPort}`,
        DRYDOCK_GROUP_ROLES: "team-a-dev=developer:team-a,security-team=security",
      },
      url: `http://127.0.0.1:${rpPort}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
    },
  ],
});

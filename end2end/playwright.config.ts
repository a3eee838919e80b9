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
  webServer: {
    command: `"${bin}" serve --demo --addr 127.0.0.1:${port} --database-url "sqlite://${dbDir}/e2e.db"`,
    cwd: root,
    env: { DRYDOCK_SITE_ROOT: siteRoot, RUST_LOG: "warn" },
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe",
    stderr: "pipe",
  },
});

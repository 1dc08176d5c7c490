// Debian's headless Chromium as both browser checks launch it: a fresh profile every run (nothing
// cached, nothing remembered) and no traffic of its own beyond the pages a check opens. Each
// check passes in its own playwright-core `chromium`, since each has its own node_modules.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export async function launchChromium(chromium, profilePrefix) {
  const profile = mkdtempSync(join(tmpdir(), profilePrefix));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1200, height: 900 },
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
  });
  // The profile goes once the browser has closed (retried: Chromium's helpers may still be
  // letting go of their files).
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true, maxRetries: 5 });
  };
  return { context, close };
}

// One line per check, `ok` or `FAIL`; the failures are kept for the check's closing summary.
export function checklist() {
  const problems = [];
  const check = (ok, what) => {
    if (!ok) problems.push(what);
    console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
    return ok;
  };
  return { problems, check };
}

// Opens the screening report (a file) and, when given, the running server's /about page in
// Debian's headless Chromium through playwright-core, as a person would: the page loads with no
// console error and no network request, the worklist opens with the emergencies, sorting works,
// the charts carry text alternatives, and at 1200 px nothing runs off the right edge. Keeps
// screenshots (and a printed PDF of the report) in the artifact folder.
//
// usage: node check.mjs REPORT.html ARTIFACT_DIR [ABOUT_URL]

import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { checklist, launchChromium } from "../chromium.mjs";

const [reportPath, artifacts, aboutUrl] = process.argv.slice(2);
if (!reportPath || !artifacts) {
  console.error("usage: node check.mjs REPORT.html ARTIFACT_DIR [ABOUT_URL]");
  process.exit(2);
}
mkdirSync(artifacts, { recursive: true });

const { problems, check } = checklist();

const { context, close } = await launchChromium(chromium, "cramp-report-chromium-");

/** Opens `url`, collecting console errors, page errors and requests. */
async function open(url) {
  const page = await context.newPage();
  const errors = [];
  const requests = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("request", (request) => requests.push(request.url()));
  const answer = await page.goto(url, { waitUntil: "load" });
  return { page, errors, requests, answer };
}

/** How far the widest element runs past the viewport's right edge, in CSS pixels. */
async function overflow(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    let worst = 0;
    for (const element of document.body.querySelectorAll("*")) {
      worst = Math.max(worst, element.getBoundingClientRect().right - width);
    }
    return Math.round(worst);
  });
}

try {
  // The report.
  const url = pathToFileURL(resolve(reportPath)).href;
  const { page, errors, requests } = await open(url);
  check(errors.length === 0, `report: no console error (${errors.join("; ") || "none"})`);
  const foreign = requests.filter((r) => r !== url);
  check(foreign.length === 0, `report: loads nothing else (${foreign.length} requests)`);
  check(
    (await page.textContent("#no-patient-answers")).includes("contains no patient answers"),
    "report: says it contains no patient answers",
  );

  const tiers = await page.$$eval("#worklist tbody tr", (rows) => rows.map((r) => r.dataset.tier));
  const emergencies = tiers.filter((t) => t === "emergency").length;
  check(tiers.length > 0 && tiers[0] === "emergency", `report: the first row is an emergency (${tiers[0]})`);
  check(
    emergencies > 0 && tiers.slice(0, emergencies).every((t) => t === "emergency"),
    `report: the first ${emergencies} rows are the emergencies, of ${tiers.length} rows`,
  );
  const firstUrgencies = await page.$$eval("#worklist tbody tr td:nth-child(3)", (cells) =>
    cells.slice(0, 3).map((c) => c.textContent.trim()),
  );
  check(firstUrgencies.every((u) => u === "Emergency"), `report: shown as "${firstUrgencies.join('", "')}"`);

  const charts = await page.$$eval("figure svg[role=img]", (svgs) =>
    svgs.map((svg) => ({
      title: svg.querySelector("title")?.textContent ?? "",
      desc: svg.querySelector("desc")?.textContent ?? "",
      width: svg.getBoundingClientRect().width,
    })),
  );
  check(charts.length >= 3, `report: ${charts.length} charts drawn`);
  check(
    charts.every((c) => c.title && c.desc && c.width > 0),
    "report: every chart has a title and a description and is visible",
  );
  check((await overflow(page)) <= 0, `report: nothing past the right edge at 1200 px (${await overflow(page)} px)`);
  await page.screenshot({ path: join(artifacts, "report.png") });
  await page.locator(".charts").screenshot({ path: join(artifacts, "report-charts.png") });

  // Sorting by record id, then back by rank.
  const header = (name) => page.locator("#worklist thead th", { hasText: name }).locator("button");
  await header("Record").click();
  const ids = await page.$$eval("#worklist tbody tr td:nth-child(2)", (c) => c.map((x) => x.textContent.trim()));
  check(
    ids.every((id, i) => i === 0 || ids[i - 1].localeCompare(id) <= 0),
    "report: sorting by record puts ids in order",
  );
  await header("#").click();
  const ranks = await page.$$eval("#worklist tbody tr td:nth-child(1)", (c) => c.map((x) => Number(x.textContent)));
  check(ranks.every((r, i) => r === i + 1), "report: sorting by # restores the worklist order");
  check(errors.length === 0, `report: still no console error after sorting`);

  await page.emulateMedia({ media: "print" });
  await page.pdf({ path: join(artifacts, "report.pdf"), format: "A4", printBackground: false });
  check(true, "report: printed to report.pdf");
  await page.close();

  // /about, served by the release server.
  if (aboutUrl) {
    const about = await open(aboutUrl);
    check(about.answer?.ok() ?? false, `about: ${about.answer?.status()}`);
    check(about.errors.length === 0, `about: no console error (${about.errors.join("; ") || "none"})`);
    const text = await about.page.textContent("body");
    const names = text.match(/(FLAG|URGENCY)_[A-Z_]{3,}/g) ?? [];
    check(names.length === 0, `about: titles, not enum names (${names.slice(0, 3).join(", ") || "none"})`);
    const cut = await overflow(about.page);
    check(cut <= 0, `about: the rules table fits a 1200 px window (${cut} px past the edge)`);
    await about.page.locator("#rules").scrollIntoViewIfNeeded();
    await about.page.screenshot({ path: join(artifacts, "about.png") });
    await about.page.close();
  }
} finally {
  await close();
}

if (problems.length > 0) {
  console.error(`${problems.length} problem(s): ${problems.join("; ")}`);
  process.exit(1);
}
console.log(`screenshots in ${artifacts}`);

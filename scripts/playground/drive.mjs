// drive.mjs: talks to mfabot through Microsoft 365 Agents Playground in a
// headless Chromium (playwright-core), takes a screenshot at each point and
// writes result.json and transcript.txt next to them.
//
// Started by run.sh; on its own:
//   PG_URL=http://127.0.0.1:56150 PG_SHOTS=/tmp/pg/shots \
//   PG_NODE_MODULES=/tmp/playground/node_modules node drive.mjs
//
// Environment:
//   PG_URL           the playground UI (default http://127.0.0.1:56150)
//   PG_SHOTS         directory for screenshots and results (default ./shots)
//   PG_NODE_MODULES  node_modules directory holding playwright-core
//                    (default: normal Node resolution from this file)
//   PG_CHROMIUM      Chromium binary (default MFABOT_TEST_CHROMIUM or /usr/bin/chromium)
//   PG_STEP_MS       how long to wait for the bot at each step (default 30000)
//   PG_LANG          nl (default: type "Nederlands graag" after the welcome;
//                    the playground's locale en-US makes the bot start in
//                    English) or en: type "English please" after the welcome
//   PG_BOT_URL       the bot's base URL, e.g. http://127.0.0.1:3978; if set,
//                    the staff dashboard (dev sign-in) is opened at the end
//                    to see the hand-off arrive there
//
// Exit code 0 only if the welcome card appeared, a button click on it was
// answered and the playground logged no HTTP error from the bot.

import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const url = process.env.PG_URL || 'http://127.0.0.1:56150';
const shots = path.resolve(process.env.PG_SHOTS || 'shots');
const chromiumPath = process.env.PG_CHROMIUM || process.env.MFABOT_TEST_CHROMIUM || '/usr/bin/chromium';
const stepMs = Number(process.env.PG_STEP_MS || 30000);

const require = createRequire(process.env.PG_NODE_MODULES
  ? path.join(path.resolve(process.env.PG_NODE_MODULES), 'noop.js')
  : import.meta.url);
const { chromium } = require('playwright-core');

// Button labels in both languages (dialogs/texts/{nl,en}.yaml). The
// playground's locale is en-US; the bot starts in Dutch.
const MOVE = /^(Overzetten naar een andere telefoon|Authenticator overzetten naar een andere telefoon|Moving Authenticator to another phone|Move Authenticator to another phone)$/;
const DONE = /^(Gelukt|Done)$/;

const result = {
  date: new Date().toISOString(),
  url,
  welcome: false,
  welcomeAfterHallo: false,
  moveAnswered: false,
  doneClicks: 0,
  staleClickAnswered: false,
  staffSeesEscalation: null,
  handoffAnswered: false,
  steps: [],
  httpErrors: [],
  pageErrors: [],
  offlineRequests: 0,
};

fs.mkdirSync(shots, { recursive: true });
const log = (...a) => console.log('[drive]', ...a);

const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
// newContext gives a fresh profile (a temporary user-data-dir) every run.
const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, locale: 'en-US' });
const page = await context.newPage();
page.on('pageerror', (e) => result.pageErrors.push(String(e).slice(0, 300)));
page.on('requestfailed', (r) => {
  // Offline, the UI's fonts and animations on res-1.cdn.office.net fail;
  // that is expected. Anything failing on the playground itself is not.
  if (new URL(r.url()).hostname === new URL(url).hostname) {
    result.pageErrors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  } else {
    result.offlineRequests++;
  }
});

// The log panel lists every HTTP exchange between the playground and the
// bot: "[6:13:23 AM] Microsoft 365 Agents Playground -> User Application
// message 200" (to the bot) and "User Application -> Microsoft 365 Agents
// Playground message 201" (the bot's replies).
async function logLines() {
  const text = await page.innerText('body');
  return text.split('\n').map((l) => l.trim()).filter((l) => /^\[\d{1,2}:\d{2}:\d{2}\s?[AP]M\]/.test(l));
}
function exchanges(lines) {
  const out = [];
  for (const l of lines) {
    const m = l.match(/(Microsoft 365 Agents Playground|User Application)\s*(?:->|→|-->)\s*(Microsoft 365 Agents Playground|User Application)\s+(\S+)\s+(\d{3})(?:\s+(.*))?$/);
    if (m) out.push({ toBot: m[2] === 'User Application', type: m[3], status: Number(m[4]), text: m[5] || '', line: l });
  }
  return out;
}
async function botMessages() {
  return exchanges(await logLines()).filter((e) => !e.toBot && e.type === 'message').length;
}
async function toBot() {
  return exchanges(await logLines()).filter((e) => e.toBot);
}

// waitReplies waits until the bot has posted more than `before` messages
// and then nothing new for a moment (one turn can be several messages).
async function waitReplies(before, ms = stepMs) {
  const end = Date.now() + ms;
  let last = -1;
  let stableSince = 0;
  while (Date.now() < end) {
    const n = await botMessages();
    if (n > before) {
      if (n !== last) {
        last = n;
        stableSince = Date.now();
      } else if (Date.now() - stableSince > 1500) {
        return n;
      }
    }
    await page.waitForTimeout(250);
  }
  return last > before ? last : 0;
}

// chatText is the text of the conversation pane: the lowest element that
// holds every message header and the compose box, without the compose box.
async function chatText() {
  return page.evaluate(() => {
    const box = document.querySelector('[contenteditable=true][role=textbox]');
    const hs = [...document.querySelectorAll('[aria-label="Message header"]')];
    if (!hs.length || !box) return '';
    let c = hs[0];
    while (c && !(c.contains(box) && hs.every((h) => c.contains(h)))) c = c.parentElement;
    if (!c) return '';
    const t = c.innerText;
    const i = t.lastIndexOf('Type a message');
    return (i >= 0 ? t.slice(0, i) : t).trim();
  });
}

async function shot(name) {
  const file = path.join(shots, name);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

async function lastButton(re) {
  const b = page.getByRole('button', { name: re });
  const n = await b.count();
  return n ? b.nth(n - 1) : null;
}

async function say(text) {
  const box = page.locator('[contenteditable=true][role=textbox]').first();
  await box.click();
  await box.pressSequentially(text, { delay: 20 });
  await page.keyboard.press('Enter');
}

async function step(name, shotName, action) {
  const before = await botMessages();
  const sentBefore = (await toBot()).length;
  const textBefore = await chatText();
  await action();
  const after = await waitReplies(before);
  const sent = (await toBot()).slice(sentBefore);
  await page.waitForTimeout(500); // let the cards render
  const file = await shot(shotName);
  const textAfter = await chatText();
  const reply = textAfter.startsWith(textBefore) ? textAfter.slice(textBefore.length).trim() : textAfter.slice(-600);
  const s = { name, screenshot: file, botMessages: after ? after - before : 0, sentToBot: sent.map((e) => `${e.type} ${e.status}`), reply };
  result.steps.push(s);
  log(`${name}: ${s.botMessages} bot message(s), sent ${s.sentToBot.join(', ') || 'nothing'} -> ${file}`);
  return s.botMessages > 0;
}

// staffDashboard signs in to the dev-mode staff dashboard and looks for
// the hand-off the student just asked for.
async function staffDashboard(base) {
  const staff = await context.newPage();
  try {
    await staff.goto(`${base}/staff/`, { waitUntil: 'load', timeout: stepMs });
    const name = staff.locator('#dev-name');
    if (await name.count()) {
      await name.fill('Playground');
      await Promise.all([staff.waitForLoadState('load'), name.press('Enter')]);
      await staff.waitForTimeout(500);
    }
    const text = await staff.innerText('body');
    result.staffSeesEscalation = /Sam/.test(text);
    const file = path.join(shots, '08-staff.png');
    await staff.screenshot({ path: file, fullPage: true });
    result.steps.push({ name: 'staff dashboard', screenshot: file, reply: text.slice(0, 1500) });
    log(`staff dashboard shows the hand-off: ${result.staffSeesEscalation} -> ${file}`);
  } catch (e) {
    result.pageErrors.push(`staff dashboard: ${e.message.split('\n')[0]}`);
  } finally {
    await staff.close();
  }
}

let exit = 1;
try {
  await page.goto(url, { waitUntil: 'load', timeout: stepMs });
  // The playground sends installationUpdate and conversationUpdate when
  // the page loads; the bot answers the pair with one welcome card.
  try {
    await page.getByRole('button', { name: MOVE }).first().waitFor({ timeout: stepMs });
    result.welcome = true;
  } catch {
    log('no welcome card after loading; typing "hallo"');
    await shot('01-no-welcome.png');
    const before = await botMessages();
    await say('hallo');
    await waitReplies(before);
    try {
      await page.getByRole('button', { name: MOVE }).first().waitFor({ timeout: 5000 });
      result.welcome = true;
      result.welcomeAfterHallo = true;
    } catch {
      // reported below
    }
  }
  await page.waitForTimeout(1000);
  result.steps.push({ name: 'welcome', screenshot: await shot('02-welcome.png') });
  log(`welcome card: ${result.welcome}${result.welcomeAfterHallo ? ' (after "hallo")' : ''}`);

  if (result.welcome && process.env.PG_LANG === 'en') {
    result.englishAnswered = await step('type "English please"', '02-english.png', async () => { await say('English please'); });
  } else if (result.welcome) {
    result.dutchAnswered = await step('type "Nederlands graag"', '02-dutch.png', async () => { await say('Nederlands graag'); });
  }
  if (result.welcome) {
    result.moveAnswered = await step('click move_phone', '03-move-phone.png', async () => {
      await (await lastButton(MOVE)).click();
    });
    for (let i = 1; i <= 4; i++) {
      const b = await lastButton(DONE);
      if (!b) {
        log('no Gelukt/Done button on screen; stopping the clicks');
        break;
      }
      const ok = await step(`click done #${i}`, `04-done-${i}.png`, async () => { await b.click(); });
      if (!ok) break;
      result.doneClicks++;
    }
    // An old card stays clickable (in Teams too): press the first
    // "Gelukt"/"Done" again and record how the bot answers.
    const first = page.getByRole('button', { name: DONE });
    if (await first.count() > 1) {
      result.staleClickAnswered = await step('click an old done', '05-old-card.png', async () => { await first.first().click(); });
    }
    result.handoffAnswered = await step('ask for a person', '06-handoff.png', async () => {
      await say(process.env.PG_LANG === 'en' ? 'talk to a person' : 'medewerker');
    });
    result.steps.push({ name: 'full page', screenshot: await (async () => {
      const file = path.join(shots, '07-full.png');
      await page.screenshot({ path: file, fullPage: true });
      return file;
    })() });
    if (process.env.PG_BOT_URL) {
      await staffDashboard(process.env.PG_BOT_URL.replace(/\/$/, ''));
    }
  }
} catch (e) {
  result.pageErrors.push(`driver: ${e.message.split('\n')[0]}`);
  try { await shot('99-error.png'); } catch { /* browser gone */ }
} finally {
  try {
    const lines = await logLines();
    fs.writeFileSync(path.join(shots, 'playground-log.txt'), lines.join('\n') + '\n');
    result.httpErrors = exchanges(lines).filter((e) => e.status >= 400).map((e) => e.line);
    fs.writeFileSync(path.join(shots, 'transcript.txt'), await chatText());
  } catch (e) {
    result.pageErrors.push(`reading the log panel: ${e.message.split('\n')[0]}`);
  }
  await browser.close();
}

const ok = result.welcome && result.moveAnswered && result.httpErrors.length === 0;
exit = ok ? 0 : 1;
fs.writeFileSync(path.join(shots, 'result.json'), JSON.stringify(result, null, 2) + '\n');
log(`welcome=${result.welcome} move_answered=${result.moveAnswered} done_clicks=${result.doneClicks} handoff_answered=${result.handoffAnswered} http_errors=${result.httpErrors.length} offline_cdn_requests=${result.offlineRequests}`);
for (const l of result.httpErrors) log('HTTP error:', l);
for (const l of result.pageErrors) log('page error:', l);
log(ok ? 'PASS' : 'FAIL');
process.exit(exit);

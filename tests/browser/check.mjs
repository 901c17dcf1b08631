// Loads the error page in headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core, which downloads no browser) at desktop and
// phone sizes, light and dark, and prints one JSON object of what it saw.
// tests/browser.rs runs it and asserts on that JSON.
//
//   node tests/browser/check.mjs URL OUT_DIR
//
// LOCALE=de-DE sets the browser's language. Screenshots go to
// OUT_DIR/<variant>.png. Exit status 0 with the JSON on
// stdout; anything else is a broken run (message on stderr).

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [url, outDir] = process.argv.slice(2);
if (!url || !outDir) {
  console.error('usage: node check.mjs URL OUT_DIR');
  process.exit(2);
}
const EXECUTABLE = process.env.CHROMIUM || '/usr/bin/chromium';
const VARIANTS = [
  { name: 'desktop-light', width: 1280, height: 800, scheme: 'light' },
  { name: 'desktop-dark', width: 1280, height: 800, scheme: 'dark' },
  { name: 'phone-light', width: 375, height: 667, scheme: 'light' },
  { name: 'phone-dark', width: 375, height: 667, scheme: 'dark' },
];

// A stuck browser must not hang `cargo test`.
const watchdog = setTimeout(() => {
  console.error('check.mjs: gave up after 120 s');
  process.exit(3);
}, 120_000);

// Everything measured inside the page. Runs through the DevTools protocol,
// so the page's CSP (no scripts) does not apply to it.
function measure(requestId) {
  const vw = document.documentElement.clientWidth;
  const vh = document.documentElement.clientHeight;
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  // Any CSS color (rgb, hex, oklch, color()) to [r, g, b, a] in sRGB 0..1.
  const rgba = (css) => {
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = '#000';
    ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    const d = ctx.getImageData(0, 0, 1, 1).data;
    return [d[0] / 255, d[1] / 255, d[2] / 255, d[3] / 255];
  };
  const over = (top, under) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + under[i] * (1 - a)).concat(1);
  };
  const lum = (c) => {
    const l = c.slice(0, 3).map((v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
  };
  const ratio = (a, b) => {
    const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
    return Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100;
  };
  const hex = (c) => '#' + c.slice(0, 3).map((v) => Math.round(v * 255).toString(16).padStart(2, '0')).join('');
  // The colour actually behind an element: its own and its ancestors'
  // backgrounds composited, over the canvas (white unless dark scheme).
  const backdrop = (el) => {
    const layers = [];
    let gradient = false;
    for (let e = el; e; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (cs.backgroundImage !== 'none') gradient = true;
      const c = rgba(cs.backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    const dark = matchMedia('(prefers-color-scheme: dark)').matches
      && getComputedStyle(document.documentElement).colorScheme.includes('dark');
    let bg = dark ? rgba('Canvas') : [1, 1, 1, 1];
    for (const layer of layers.reverse()) bg = over(layer, bg);
    return { bg, gradient };
  };
  // Where an element's text actually is, wrapped or overflowing.
  const extent = (el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    return range.getBoundingClientRect();
  };
  const box = (el) => {
    if (!el) return null;
    const r = el.getBoundingClientRect();
    const t = extent(el);
    const cs = getComputedStyle(el);
    return {
      tag: el.tagName.toLowerCase(),
      text: el.textContent,
      left: r.left, top: r.top, width: r.width, height: r.height, right: r.right, bottom: r.bottom,
      text_left: t.left, text_right: t.right,
      visible: r.width > 0 && r.height > 0 && cs.visibility === 'visible' && cs.display !== 'none'
        && Number(cs.opacity) > 0,
      // The box and the text in it (text can overflow its box).
      inside_width: Math.min(r.left, t.left) >= 0 && Math.max(r.right, t.right) <= vw + 0.5,
      font_px: parseFloat(cs.fontSize),
    };
  };
  // Contrast of every element that holds text of its own.
  const texts = [];
  for (const el of document.body.querySelectorAll('*')) {
    const own = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.data).join('').trim();
    if (!own) continue;
    const cs = getComputedStyle(el);
    const { bg, gradient } = backdrop(el);
    const fg = over(rgba(cs.color), bg);
    texts.push({
      tag: el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''),
      text: own.slice(0, 40),
      color: hex(fg), background: hex(bg), gradient,
      contrast: ratio(fg, bg),
      font_px: parseFloat(cs.fontSize), font_weight: Number(cs.fontWeight),
    });
  }
  const h1 = document.querySelector('h1');
  // What the colour scheme changes: the page behind the body, and the
  // heading's text over what is behind it.
  const heading = h1 && backdrop(h1).bg;
  const scheme_colors = {
    page: hex(backdrop(document.body).bg),
    heading_background: heading && hex(heading),
    heading_text: heading && hex(over(rgba(getComputedStyle(h1).color), heading)),
  };
  // The request id: the innermost element whose text is exactly the id.
  const idEl = [...document.body.querySelectorAll('*')].reverse()
    .find((e) => e.textContent.trim() === requestId) || null;
  const link = document.querySelector('a[href]');
  const widest = Math.max(...[...document.body.querySelectorAll('*')]
    .flatMap((e) => [e.getBoundingClientRect().right, extent(e).right]));
  return {
    viewport: [vw, vh],
    lang: document.documentElement.lang,
    doc_title: document.title,
    h1_count: document.querySelectorAll('h1').length,
    scripts: document.scripts.length,
    // A `data:` image is part of the page (the CSP allows it); anything else
    // would be loaded from elsewhere.
    external: [...document.querySelectorAll('link[href],img[src],iframe,object,embed,video,audio,source')]
      .filter((e) => !(e.getAttribute('src') ?? '').startsWith('data:')).length,
    scroll_width: document.documentElement.scrollWidth,
    widest_right: widest,
    title: box(h1),
    message: box(h1 && h1.nextElementSibling),
    request_id: box(idEl) && { ...box(idEl), user_select: idEl && getComputedStyle(idEl).userSelect },
    link: link && { ...box(link), href: link.href, text: link.textContent },
    texts,
    scheme_colors,
  };
}

// After Tab: what has focus and how visible its focus indicator is.
function focusState() {
  const a = document.activeElement;
  if (!a || a === document.body) return { tag: null };
  const cs = getComputedStyle(a);
  return {
    tag: a.tagName.toLowerCase(),
    href: a.href || null,
    outline_style: cs.outlineStyle,
    outline_width: parseFloat(cs.outlineWidth),
    outline_color: cs.outlineColor,
    box_shadow: cs.boxShadow,
  };
}

async function variant(context, v) {
  const page = await context.newPage();
  const console_ = [];
  const requests = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') {
      console_.push({ type: m.type(), text: m.text(), url: m.location().url || null });
    }
  });
  page.on('pageerror', (e) => console_.push({ type: 'pageerror', text: String(e) }));
  page.on('request', (r) => requests.push({ url: r.url(), type: r.resourceType(), method: r.method() }));
  await page.setViewportSize({ width: v.width, height: v.height });
  await page.emulateMedia({ colorScheme: v.scheme });
  const resp = await page.goto(url, { waitUntil: 'load' });
  await page.waitForLoadState('networkidle');
  const headers = resp.headers();
  const body = await resp.body();
  const requestId = headers['x-request-id'] || '';
  const out = {
    name: v.name,
    scheme: v.scheme,
    scheme_applied: await page.evaluate(
      (s) => matchMedia(`(prefers-color-scheme: ${s})`).matches, v.scheme),
    status: resp.status(),
    content_type: headers['content-type'] || null,
    csp: headers['content-security-policy'] || null,
    content_language: headers['content-language'] || null,
    header_request_id: requestId,
    bytes: body.length,
    ...(await page.evaluate(measure, requestId)),
  };
  const shot = join(outDir, `${v.name}.png`);
  await page.screenshot({ path: shot });
  out.screenshot = shot;

  // The id is one click to select (user-select: all), so easy to copy.
  if (out.request_id) {
    const r = out.request_id;
    await page.mouse.click(r.left + r.width / 2, r.top + r.height / 2);
    out.selected_after_click = await page.evaluate(() => String(getSelection()).trim());
    await page.evaluate(() => getSelection().removeAllRanges());
  }
  // Keyboard: the first Tab reaches the support link, with a visible ring.
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await page.keyboard.press('Tab');
  const focus = await page.evaluate(focusState);
  if (focus.tag && focus.outline_style !== 'none') {
    focus.outline_contrast = await page.evaluate((color) => {
      // Reuses measure()'s idea: the ring against the page behind the link.
      const el = document.activeElement;
      const c = document.createElement('canvas');
      c.width = c.height = 1;
      const x = c.getContext('2d', { willReadFrequently: true });
      const px = (css) => { x.clearRect(0, 0, 1, 1); x.fillStyle = css; x.fillRect(0, 0, 1, 1); return [...x.getImageData(0, 0, 1, 1).data].map((v) => v / 255); };
      let bg = null;
      for (let e = el.parentElement; e && !bg; e = e.parentElement) {
        const b = px(getComputedStyle(e).backgroundColor);
        if (b[3] >= 1) bg = b;
      }
      bg = bg || [1, 1, 1, 1];
      const lum = (k) => { const l = k.slice(0, 3).map((v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)); return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2]; };
      const [hi, lo] = [lum(px(color)), lum(bg)].sort((p, q) => q - p);
      return Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100;
    }, focus.outline_color);
  }
  out.focus_after_tab = focus;
  await page.screenshot({ path: join(outDir, `${v.name}-focus.png`) });

  // Phones: also nothing wider than the narrowest phone (320 px).
  if (v.width < 600) {
    await page.setViewportSize({ width: 320, height: 568 });
    out.at_320 = await page.evaluate(() => ({
      viewport: document.documentElement.clientWidth,
      scroll_width: document.documentElement.scrollWidth,
    }));
  }
  // Late arrivals (a favicon, a deferred load) would show up by now.
  await page.waitForTimeout(200);
  out.console = console_;
  out.requests = requests;
  await page.close();
  return out;
}

const profile = mkdtempSync(join(tmpdir(), 'error-shield-chromium-'));
let context;
try {
  mkdirSync(outDir, { recursive: true });
  context = await chromium.launchPersistentContext(profile, {
    executablePath: EXECUTABLE,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 1280, height: 800 },
    deviceScaleFactor: 1,
    // The browser's language (its Accept-Language), when the test sets one.
    ...(process.env.LOCALE ? { locale: process.env.LOCALE } : {}),
  });
  for (const p of context.pages()) await p.close();
  const result = { url, chromium: context.browser()?.version() ?? null, variants: [] };
  for (const v of VARIANTS) result.variants.push(await variant(context, v));
  process.stdout.write(JSON.stringify(result, null, 1) + '\n');
} catch (e) {
  console.error('check.mjs:', e && e.stack || e);
  process.exitCode = 1;
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
  clearTimeout(watchdog);
}

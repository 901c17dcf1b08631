// The runtime edge of the proxy. On the hot path Rust makes one call here
// (`proxied`) and never runs again: the status check happens in JS against
// the bitmap Rust parsed, and only a failure goes back into Rust.

// Sends `request` to `url` (null: the incoming URL) with the request id and
// hop marker added, redirects not followed, and an abort after `ms` unless
// the response headers arrived first; then one continuation for the outcome
// (a timeout is an Error named "TimeoutError").
function dispatch(request, url, ms, id, forwardedHost, onResponse, onError) {
  const out = new Request(url ?? request.url, request);
  out.headers.set("x-request-id", id);
  out.headers.set("x-error-shield-hop", "1"); // proxy::HOP_HEADER
  if (forwardedHost !== undefined) out.headers.set("x-forwarded-host", forwardedHost);
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), ms);
  return fetch(out, { redirect: "manual", signal: ctl.signal }).then(
    (res) => {
      clearTimeout(timer);
      return onResponse(res);
    },
    (err) => {
      clearTimeout(timer);
      if (!ctl.signal.aborted) return onError(err);
      const e = new Error(`no response headers within ${ms} ms`);
      e.name = "TimeoutError";
      return onError(e);
    },
  );
}

// The async path's fetch: resolves to the origin's response, rejects with
// the fetch error.
export function originFetch(request, url, ms, id, forwardedHost) {
  return dispatch(request, url, ms, id, forwardedHost, (res) => res, (err) => Promise.reject(err));
}

// Set once per isolate by Rust (`configure`): FAILURE_STATUSES as a bitmap
// indexed by status, and LOG_ORIGIN_BODY_BYTES.
let failing = new Uint8Array(0);
let excerptMax = 0;

export function configure(bitmap, maxBodyBytes) {
  failing = bitmap;
  excerptMax = maxBodyBytes;
}

// What Rust's failure path (`failed`) needs to know about a failed fetch:
// the origin's failing status and body excerpt, or the fetch's error.
export class OriginFailure {
  constructor(id, started, status, body, error) {
    Object.assign(this, { id, started, status, body, error });
  }
}

// The hot path: `originFetch`, then the status check. Resolves to the
// origin's response, or to an OriginFailure; never rejects.
export function proxied(request, url, ms, id, forwardedHost) {
  const started = Date.now();
  return dispatch(
    request,
    url,
    ms,
    id,
    forwardedHost,
    (res) =>
      failing[res.status] === 1
        ? bodyExcerpt(res, excerptMax).then((body) => new OriginFailure(id, started, res.status, body))
        : res,
    (error) => new OriginFailure(id, started, undefined, undefined, error),
  );
}

// Reads at most `max` bytes of a failing response's body for the log, then
// cancels the rest so a huge body is never read whole. Never rejects: a body
// that breaks mid-way yields what arrived.
export async function bodyExcerpt(res, max) {
  if (max === 0 || res.body === null) {
    if (res.body !== null) res.body.cancel().catch(() => {});
    return new Uint8Array(0);
  }
  const out = new Uint8Array(max);
  let len = 0;
  const reader = res.body.getReader();
  try {
    while (len < max) {
      const { done, value } = await reader.read();
      if (done) break;
      const n = Math.min(value.byteLength, max - len);
      out.set(value.subarray(0, n), len);
      len += n;
    }
  } catch {
    // Reset mid-body: log what we have.
  }
  reader.cancel().catch(() => {});
  return out.subarray(0, len);
}

// Stale-if-error: our own named cache, keyed by the incoming URL. The stored
// copy carries its storage time and window in headers of ours, and a
// Cache-Control long enough for the Cache API to keep it that long.
const STALE_CACHE = "error-shield-stale";

// Returns the response for the client; a tee of its body is stored off the
// hot path (ctx.waitUntil), never delaying the client.
export function stash(request, response, ctx, windowSec) {
  const [forClient, forCache] = response.body ? response.body.tee() : [null, null];
  const client = new Response(forClient, response);
  const stored = new Response(forCache, response);
  stored.headers.set("x-error-shield-stored-at", String(Date.now()));
  stored.headers.set("x-error-shield-window", String(windowSec));
  const original = response.headers.get("cache-control");
  if (original !== null) stored.headers.set("x-error-shield-cache-control", original);
  stored.headers.set("cache-control", `max-age=${windowSec}`);
  ctx.waitUntil(caches.open(STALE_CACHE).then((c) => c.put(request.url, stored)).catch(() => {}));
  return client;
}

// The stored copy for the request's URL with its storage time and window,
// or null. Never rejects.
export async function staleCopy(request) {
  try {
    const hit = await (await caches.open(STALE_CACHE)).match(request.url);
    if (!hit) return null;
    return [hit, Number(hit.headers.get("x-error-shield-stored-at")), Number(hit.headers.get("x-error-shield-window"))];
  } catch {
    return null;
  }
}

// The stored copy as the client gets it: our headers removed, the origin's
// Cache-Control restored, Age and X-Served-Stale added.
export function asStale(hit, ageSec) {
  const res = new Response(hit.body, hit);
  const original = res.headers.get("x-error-shield-cache-control");
  for (const h of ["x-error-shield-stored-at", "x-error-shield-window", "x-error-shield-cache-control", "cache-control"]) res.headers.delete(h);
  if (original !== null) res.headers.set("cache-control", original);
  res.headers.set("age", String(ageSec));
  res.headers.set("x-served-stale", "1");
  return res;
}

// Resolves after `ms`: the backoff between retries.
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

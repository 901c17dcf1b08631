// The executor: the I/O that workerd offers only to JavaScript, carried out
// as Rust's plan says. No rule lives here: which statuses fail, how much of
// a body to read, the header names, when to retry and what to store all
// come from Rust (`configure` once per isolate, then the arguments of each
// call). Every function resolves to the origin's Response (pass it to the
// client) or to the request's Outcome (hand it to Rust's `conclude`), and
// never rejects.

let K = null; // names from Rust (`constants`)
let failing = []; // FAILURE_STATUSES as bitmaps indexed by status: the top level's, then per rule
let excerptMax = 0; // LOG_ORIGIN_BODY_BYTES
let watching = true; // WATCH_BODIES
let hop = null; // this deployment's marker, sent to the origin
let looped = null; // …and the one on its answer to a request that came back

export function configure(constants, bitmaps, max, watch, hopMarker, loopedMarker) {
  K = constants;
  failing = bitmaps;
  excerptMax = max;
  watching = watch;
  hop = hopMarker;
  looped = loopedMarker;
}

// What became of a request at the origin, for Rust to judge.
export class Outcome {
  constructor(url, id, forwardedHost, keep, strip, bitmap) {
    this.url = url; // null: the incoming URL
    this.id = id;
    this.forwardedHost = forwardedHost;
    this.keep = keep; // hand good responses to Rust (stale-if-error)
    this.strip = strip; // remove the maintenance bypass header
    this.failing = bitmap; // which statuses fail for this request
    this.started = Date.now();
    this.attempts = 0;
    this.status = undefined; // a failing status…
    this.excerpt = undefined; // …and the first bytes of its body
    this.looped = false; // …from this worker itself, which recorded it
    this.error = undefined; // or the fetch's error…
    this.broken = false; // …or ours, building the request
    this.timedOut = false; // …or the abort at the timeout
    this.response = undefined; // or a good response, when `keep`
    this.looked = false; // the stored copy was looked up…
    this.hit = null; // …and found: [response, storedAt, window]
    this.passed = undefined; // a good response on its way to the client…
    this.tail = undefined; // …and the promise of this outcome if its body breaks
    this.sent = undefined; // …with the body bytes the client had by then
    this.passedStatus = 0; // …and the status it got
  }
}

// The first attempt.
export function execute(request, url, id, forwardedHost, ms, keep, strip, bitmap) {
  return attempt(request, new Outcome(url, id, forwardedHost, keep, strip, failing[bitmap]), ms);
}

// Another attempt after `delay` ms, with `ms` left until the timeout.
export function retry(request, outcome, delay, ms) {
  return new Promise((resolve) => setTimeout(resolve, delay)).then(() => attempt(request, outcome, ms));
}

// Sends the request on with the id and hop marker, redirects not followed,
// aborted after `ms` unless the response headers arrived first.
function attempt(request, o, ms) {
  o.attempts++;
  o.status = o.excerpt = o.error = undefined;
  o.timedOut = o.looped = o.broken = false;
  let out;
  try {
    out = outbound(request, o);
  } catch (error) {
    o.error = error;
    o.broken = true;
    return Promise.resolve(o);
  }
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), ms);
  // `encodeResponseBody: "manual"`: the body stays as the origin encoded it
  // (gzip, br), so a watched body passes byte for byte, never re-encoded.
  return fetch(out, { redirect: "manual", signal: ctl.signal, encodeResponseBody: "manual" }).then(
    (res) => {
      clearTimeout(timer);
      // This deployment's answer to a request that came back is judged
      // whatever FAILURE_STATUSES says, so its marker never passes on.
      if (o.failing[res.status] === 1 || res.headers.get(K.hop) === looped) return excerpt(res, o);
      if (!o.keep) return watch(res, o);
      o.response = res;
      return o;
    },
    (error) => {
      clearTimeout(timer);
      o.error = error;
      o.timedOut = ctl.signal.aborted;
      return o;
    },
  );
}

// The request for the origin. A retry (only ever of a request Rust found
// body-less) is built afresh: the first attempt used up the body stream
// workerd gives every method but GET and HEAD, even an empty one.
function outbound(request, o) {
  const url = o.url ?? request.url;
  const out = o.attempts === 1 ? new Request(url, request) : new Request(url, { method: request.method, headers: request.headers });
  out.headers.set(K.requestId, o.id);
  out.headers.set(K.hop, hop);
  if (o.forwardedHost !== undefined) out.headers.set(K.forwardedHost, o.forwardedHost);
  if (o.strip) out.headers.delete(K.bypass);
  return out;
}

// The response for the client, its body watched: the same status, headers,
// length and bytes, through a native pipe (a FixedLengthStream when the
// origin gave a length, so a body that breaks still ends short). If the
// origin's stream fails after the headers were sent, `o.tail` resolves to
// the outcome (with `sent`) for Rust to record. No body (HEAD, 204, 304, a
// WebSocket's 101), or with WATCH_BODIES off: the response goes as it is.
function watch(res, o) {
  const body = res.body;
  if (!watching || body === null || res.webSocket) return res;
  const length = Number(res.headers.get(K.contentLength) ?? NaN);
  const known = Number.isSafeInteger(length);
  const pipe = known ? new FixedLengthStream(length) : new IdentityTransformStream();
  o.passedStatus = res.status;
  o.tail = pump(body, pipe.writable.getWriter(), known ? length : 0, o);
  o.passed = new Response(pipe.readable, asSent(res));
  return o;
}

// Moves the body on chunk by chunk, counting; resolves to `o` when the
// origin's stream fails, to null when it ends or the client goes away.
// Reads into buffers of its own (BYOB): the body's length when it is small,
// else growing to 1 MiB, so a long stream takes few turns of this loop.
async function pump(body, writer, length, o) {
  try {
    return await move(body, writer, length, o);
  } catch {
    // Anything unforeseen: end the client's body rather than leave it hanging.
    writer.abort().catch(() => {});
    return null;
  }
}

async function move(body, writer, length, o) {
  let reader;
  let byob = true;
  try {
    reader = body.getReader({ mode: "byob" });
  } catch {
    // Not a byte stream: chunks as they come.
    reader = body.getReader();
    byob = false;
  }
  let size = length > 0 ? Math.min(length, MAX_READ) : 16384;
  let sent = 0;
  for (;;) {
    let chunk;
    try {
      chunk = await (byob ? reader.read(new Uint8Array(size)) : reader.read());
      if (!chunk.done && chunk.value.byteLength === size && size < MAX_READ) size *= 2;
    } catch (error) {
      writer.abort(error).catch(() => {});
      o.error = error;
      o.sent = sent;
      return o;
    }
    if (chunk.done) {
      writer.close().catch(() => {});
      return null;
    }
    try {
      await writer.write(chunk.value);
    } catch {
      reader.cancel().catch(() => {});
      return null;
    }
    sent += chunk.value.byteLength;
  }
}

const MAX_READ = 1 << 20;

// Reads at most excerptMax bytes of a failing body for the log, then
// cancels the rest so a huge body is never read whole. A body that breaks
// mid-way yields what arrived.
async function excerpt(res, o) {
  o.status = res.status;
  o.looped = res.headers.get(K.hop) === looped;
  const max = excerptMax;
  if (max === 0 || res.body === null) {
    if (res.body !== null) res.body.cancel().catch(() => {});
    o.excerpt = new Uint8Array(0);
    return o;
  }
  const out = new Uint8Array(max);
  let len = 0;
  // The body arrives as the origin encoded it: decode what the runtime can,
  // so the log shows text.
  const coding = res.headers.get(K.contentEncoding);
  const decodable = coding === "gzip" || coding === "deflate";
  const reader = (decodable ? res.body.pipeThrough(new DecompressionStream(coding)) : res.body).getReader();
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
  o.excerpt = out.subarray(0, len);
  return o;
}

// Returns the response for the client; a tee of its body is stored for
// `windowSec` off the hot path (ctx.waitUntil), never delaying the client.
// The stored half is collected up to `maxBytes`: a body that grows past
// it, or breaks, is not stored (a cut copy is never served later); the
// client's half goes on either way.
export function stash(request, response, ctx, windowSec, maxBytes, o) {
  const [forClient, forCache] = response.body ? response.body.tee() : [null, null];
  const init = asSent(response);
  const store = collect(forCache, maxBytes).then((body) => {
    if (body === null) return;
    const stored = new Response(body, init);
    stored.headers.set(K.storedAt, String(Date.now()));
    stored.headers.set(K.window, String(windowSec));
    const original = response.headers.get(K.cacheControl);
    if (original !== null) stored.headers.set(K.keptCacheControl, original);
    stored.headers.set(K.cacheControl, `max-age=${windowSec}`);
    return caches.open(K.cacheName).then((c) => c.put(request.url, stored));
  });
  ctx.waitUntil(store.catch(() => {}));
  return watch(new Response(forClient, init), o);
}

// A good response that goes to the client unstored, its body watched.
export function pass(response, o) {
  return watch(response, o);
}

// The whole body when it is at most `max` bytes, else null.
async function collect(stream, max) {
  if (stream === null) return new Uint8Array(0);
  const reader = stream.getReader();
  const parts = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.byteLength;
    if (n > max) {
      reader.cancel().catch(() => {});
      return null;
    }
    parts.push(value);
  }
  const body = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    body.set(p, at);
    at += p.byteLength;
  }
  return body;
}

// A response's init with its body passed as the origin encoded it.
function asSent(res) {
  return { status: res.status, statusText: res.statusText, headers: res.headers, encodeBody: "manual" };
}

// Looks up the stored copy of the request's URL into `o.hit`.
export async function lookUp(request, o) {
  o.looked = true;
  try {
    const hit = await (await caches.open(K.cacheName)).match(request.url);
    if (hit) o.hit = [hit, Number(hit.headers.get(K.storedAt)), Number(hit.headers.get(K.window))];
  } catch {
    // No cache here (e.g. *.workers.dev): as if nothing was stored.
  }
  return o;
}

// The stored copy as the client gets it: our headers removed, the origin's
// Cache-Control restored, Age and X-Served-Stale added.
export function asStale(hit, ageSec) {
  const res = new Response(hit.body, hit);
  const original = res.headers.get(K.keptCacheControl);
  for (const h of [K.storedAt, K.window, K.keptCacheControl, K.cacheControl]) res.headers.delete(h);
  if (original !== null) res.headers.set(K.cacheControl, original);
  res.headers.set(K.age, String(ageSec));
  res.headers.set(K.servedStale, K.servedStaleValue);
  return res;
}

// The executor: the I/O that workerd offers only to JavaScript, carried out
// as Rust's plan says. No rule lives here: which statuses fail, how much of
// a body to read, the header names, when to retry and what to store all
// come from Rust (`configure` once per isolate, then the arguments of each
// call). Every function resolves to the origin's Response (pass it to the
// client), to a watched one ({ response, tail }), or to the request's
// Context with what came back (hand it to Rust's `conclude`), and never
// rejects.

let K = null; // names from Rust (`constants`)
let failing = []; // FAILURE_STATUSES as bitmaps indexed by status: the top level's, then per rule
let excerptMax = 0; // LOG_ORIGIN_BODY_BYTES
let watching = true; // WATCH_BODIES

// For a promise whose failure changes nothing (a cancel, a close, a put).
function ignore() {}

export function configure(constants, bitmaps, max, watch) {
  K = constants;
  failing = bitmaps;
  excerptMax = max;
  watching = watch;
}

// One request's context, from decide to conclude: what the I/O needs, set
// by Rust once (the URL changes only for the fallback), the journey Rust
// owns, carried unread, and what came back: `{ kind, …its data }`, `kind`
// numbered by Rust (K.kind). Nothing here is decided.
class Context {
  constructor(url, headers, rule, handBack, abort, journey, client) {
    this.url = url; // the URL to fetch
    this.headers = headers; // set on the origin's request: name, value, … (a null value removes it)
    this.rule = rule; // which failing-status bitmap applies
    this.handBack = handBack; // a good response goes back to Rust (to store, record or count)
    this.abort = abort; // a fetch that lost its race is aborted, not only let go
    this.journey = journey; // Rust's
    this.client = client; // the client's request: its signal is aborted once it has gone (compatibility date 2026-11-17 or later), read only on a failure
    this.came = null; // what came back
  }
}

// The request's context and its first attempt, with `ms` until the
// timeout; `upload`: the length of a body to send on watched (-1 chunked,
// 0 none or unwatched).
export function execute(request, url, headers, rule, handBack, abort, journey, ms, upload) {
  const ctx = new Context(url, headers, rule, handBack, abort, journey, request);
  return attempt(request, ctx, ms, upload);
}

// Another attempt after `delay` ms, with `ms` left until the timeout; to
// `url` when Rust gives one.
export function retry(request, ctx, journey, handBack, delay, ms, url) {
  ctx.journey = journey;
  ctx.handBack = handBack;
  if (url !== undefined) ctx.url = url;
  return new Promise((resolve) => setTimeout(resolve, delay)).then(() => attempt(request, ctx, ms, undefined));
}

// Sends the request on with the id and hop markers, redirects not
// followed; TimedOut after `ms` unless the response headers arrived first.
// The timeout is the origin's: with a body to send on (`ctx.upload`) it
// starts once the body was handed over, and until then an upload with no
// progress for `ms` is UploadStalled. The timeout is a timer raced against
// the fetch: an AbortSignal would make the runtime wrap every response
// body it gave, the one path with no failure paying for it. The fetch that
// lost the race never touches `ctx` again: a late response's body is
// cancelled, and the request's I/O lets the fetch go once the answer is
// done. When something outlives the answer (`ctx.abort`: a fallback
// attempt; an upload still streaming), the fetch gets a signal and is
// aborted at once. `first` (an upload's length, or undefined for a later
// attempt): only the first attempt has the request's body to send.
function attempt(request, ctx, ms, first) {
  let out;
  try {
    out = outbound(request, ctx, first);
  } catch (error) {
    return Promise.resolve(came(ctx, K.kind.brokenRequest, { error }));
  }
  const upload = out[2];
  const ctl = ctx.abort || upload !== undefined ? new AbortController() : null;
  if (ctl !== null) out[1].signal = ctl.signal;
  return new Promise((resolve, reject) => {
    let timer = null;
    let over = false; // the attempt has its outcome
    const stop = (kind, error) => {
      if (over) return;
      over = true;
      clearTimeout(timer);
      ctl?.abort();
      resolve(came(ctx, kind, { error, sent: upload?.sent ?? 0 }));
    };
    // (Re)starts the clock: `kind` when it runs out.
    const arm = (kind) => {
      clearTimeout(timer);
      timer = setTimeout(() => stop(kind), ms);
    };
    if (upload === undefined) arm(K.kind.timedOut);
    else send(upload, arm, stop);
    fetch(out[0], out[1])
      .then(
        (res) => {
          if (over) return late(res);
          over = true;
          clearTimeout(timer);
          resolve(arrived(res, ctx));
        },
        (error) => stop(K.kind.fetchError, error),
      )
      .catch(reject);
  });
}

// Moves the client's body on to the origin chunk by chunk (each read and
// write chained by callbacks, so no chain of promises grows): every chunk
// the origin took re-arms the stall clock, and once the whole body was
// handed over the origin's timeout starts. A client's body that breaks
// ends the attempt as UploadBroken. `upload.sent` counts the bytes the
// origin took.
function send(upload, arm, stop) {
  const { reader, writer } = upload;
  arm(K.kind.uploadStalled);
  const next = () => reader.read().then(step, broke).catch(broke);
  const step = (chunk) => {
    if (chunk.done) {
      writer.close().then(() => arm(K.kind.timedOut), ignore);
      return;
    }
    const n = chunk.value.byteLength;
    writer.write(chunk.value).then(() => {
      upload.sent += n;
      arm(K.kind.uploadStalled);
      next();
    }, gone);
  };
  // The origin's side is gone (the fetch failed or was aborted): its
  // outcome is the fetch's.
  const gone = () => reader.cancel().catch(ignore);
  const broke = (error) => {
    writer.abort(error).catch(ignore);
    stop(K.kind.uploadBroken, error);
  };
  next();
}

// A response that came after its attempt timed out: nobody gets it.
function late(res) {
  res.body?.cancel().catch(ignore);
  try {
    res.webSocket?.accept();
    res.webSocket?.close(K.goingAway);
  } catch {
    // Already gone.
  }
}

// What the origin's response headers make of the attempt. An answer with
// a loop signal goes to Rust unread, whatever FAILURE_STATUSES says: only
// Rust can tell whose it is.
function arrived(res, ctx) {
  const signal = res.headers.get(K.hop);
  if (signal !== null) return came(ctx, K.kind.signalled, { response: res, signal });
  return heard(res, ctx);
}

// An answer with no loop signal (or one Rust found to be none).
export function heard(res, ctx) {
  if (failing[ctx.rule][res.status] === 1) return excerpt(res, ctx);
  if (!ctx.handBack) return watch(res, ctx);
  return came(ctx, K.kind.good, { response: res });
}

// `ctx` with what came back: `kind` and its data.
function came(ctx, kind, data) {
  data.kind = kind;
  ctx.came = data;
  return ctx;
}

// The request for the origin, as fetch's two arguments (redirects not
// followed; `encodeResponseBody: "manual"`: the body stays as the origin
// encoded it, gzip or br, so a watched body passes byte for byte, never
// re-encoded). A body-less request is built from its parts, which costs
// the pass-through less than copying the request and editing the copy's
// headers. A body goes along only in a copy of the request itself: workerd
// passes a GET's body with a Content-Length that way, while a GET built
// from parts may not have one. A retry is only ever of a request Rust
// found body-less; the first attempt used up the body stream workerd gives
// every method but GET and HEAD, even an empty one.
function outbound(request, ctx, first) {
  const url = ctx.url;
  const init = { redirect: "manual", encodeResponseBody: "manual" };
  let out = url;
  let headers;
  let upload;
  if (first === 0 && request.body !== null) {
    out = new Request(url, request);
    headers = out.headers;
  } else {
    headers = new Headers(request.headers);
    init.method = request.method;
    init.headers = headers;
    if (first !== undefined && first !== 0) {
      // A pipe of the body's length keeps its Content-Length; a chunked
      // body stays chunked.
      const pipe = first > 0 ? new FixedLengthStream(first) : new IdentityTransformStream();
      init.body = pipe.readable;
      upload = { reader: request.body.getReader(), writer: pipe.writable.getWriter(), sent: 0 };
    }
  }
  const set = ctx.headers;
  for (let i = 0; i < set.length; i += 2) {
    if (set[i + 1] === null) headers.delete(set[i]);
    else headers.set(set[i], set[i + 1]);
  }
  return upload === undefined ? [out, init] : [out, init, upload];
}

// Lets a response go unread: its body cancelled, a WebSocket closed.
export function letGo(res) {
  late(res);
}

// The response for the client, its body watched: the same status, headers,
// length and bytes, through the runtime's own pipe (`pipeTo`, which moves
// the bytes natively and counts nothing) into a FixedLengthStream when the
// runtime framed the body by its length (so a body that breaks still ends
// short), else an IdentityTransformStream. Returns { response, tail }:
// `tail` resolves to `ctx` (BodyBroken: the length promised, whether the
// client had left by then) when the pipe fails, for Rust to judge, or to
// null when it ends. No body (HEAD, 204, 304, a WebSocket's 101), or with
// WATCH_BODIES off: the response goes as it is. A status no response can
// carry (fetch takes a 600, `new Response` refuses it) goes back to Rust
// to be judged.
function watch(res, ctx) {
  const status = res.status;
  if (status < K.lowestStatus || status > K.highestStatus) return came(ctx, K.kind.good, { response: res });
  const body = res.body;
  if (!watching || body === null || res.webSocket) return res;
  const expected = framedLength(res.headers);
  const pipe = expected >= 0 ? new FixedLengthStream(expected) : new IdentityTransformStream();
  const tail = body.pipeTo(pipe.writable).then(
    () => null,
    // A turn later, so that a client's going has reached its signal.
    (error) => new Promise((resolve) => setTimeout(resolve, 0)).then(() => {
      const left = ctx.client.signal?.aborted === true;
      return came(ctx, K.kind.bodyBroken, { status, error, expected, left });
    }),
  );
  return { response: new Response(pipe.readable, asSent(res)), tail };
}

// The length the runtime framed the body by, or -1: only a Content-Length
// of digits alone, and never beside a Transfer-Encoding, which frames the
// body instead (RFC 9112 §6.3), whatever length the origin also wrote.
function framedLength(headers) {
  const value = headers.get(K.contentLength);
  if (value === null || headers.has(K.transferEncoding) || !DIGITS.test(value)) return -1;
  const length = Number(value);
  return Number.isSafeInteger(length) ? length : -1;
}

const DIGITS = /^[0-9]+$/;

// Reads at most excerptMax bytes of a failing body for the log, for at
// most K.excerptWaitMs from its headers (an origin that sends a 500's head
// and stalls cannot hold the answer), then cancels the rest so a huge body
// is never read whole. A body that breaks mid-way yields what arrived.
async function excerpt(res, ctx) {
  const got = { status: res.status, retryAfter: res.headers.get(K.retryAfter) ?? undefined };
  const body = res.body;
  const max = excerptMax;
  if (max === 0 || body === null) {
    body?.cancel().catch(ignore);
    return came(ctx, K.kind.failingStatus, got);
  }
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(resolve, K.excerptWaitMs, LATE);
  });
  const raw = body.getReader();
  const out = new Uint8Array(max);
  let len = 0;
  let reader = raw;
  try {
    // The body arrives as the origin encoded it: decoded as Rust's table
    // says, where the runtime can, so the log shows text.
    const coding = spelled(res.headers.get(K.contentEncoding));
    // Own entries only: `constructor` or `__proto__` is no decoder.
    const decoders = Object.hasOwn(K.decoding, coding) ? K.decoding[coding] : undefined;
    const first = decoders === undefined ? null : await Promise.race([raw.read(), late]);
    if (first !== null && first !== LATE && !first.done) reader = decoded(raw, first.value, decoders);
    const take = (value) => {
      const n = Math.min(value.byteLength, max - len);
      out.set(value.subarray(0, n), len);
      len += n;
    };
    // No byte within the bound, or an empty body: nothing to decode or log.
    if (first === LATE || first?.done) reader = null;
    while (reader !== null && len < max) {
      let chunk;
      try {
        chunk = await Promise.race([reader.read(), late]);
      } catch (error) {
        if (reader !== raw && len === 0) take(first.value);
        throw error;
      }
      if (chunk === LATE || chunk.done) break;
      take(chunk.value);
    }
  } catch {
    // Reset mid-body: log what we have.
  }
  clearTimeout(timer);
  reader?.cancel().catch(ignore);
  raw.cancel().catch(ignore);
  got.excerpt = out.subarray(0, len);
  return came(ctx, K.kind.failingStatus, got);
}

const LATE = Symbol("late");

// Content-Encoding as Rust's table spells it: tokens lower-cased, trimmed,
// joined by commas.
function spelled(coding) {
  return coding === null ? "" : coding.toLowerCase().split(",").map((t) => t.trim()).join(",");
}

// The raw body (its first chunk already read) through the runtime's
// decoders, last coding first. Servers send raw deflate as `deflate` too:
// first bytes that are no zlib header (RFC 1950: method 8, a check that
// divides by 31) are read as raw deflate.
function decoded(raw, first, decoders) {
  let pending = first;
  let stream = new ReadableStream({
    pull(c) {
      if (pending !== null) {
        c.enqueue(pending);
        pending = null;
        return;
      }
      return raw.read().then((r) => (r.done ? c.close() : c.enqueue(r.value)));
    },
    cancel: (reason) => raw.cancel(reason),
  });
  const zlib = first.byteLength >= 2 && (first[0] & 15) === 8 && ((first[0] << 8) | first[1]) % 31 === 0;
  decoders.forEach((format, i) => {
    const raw = i === 0 && format === "deflate" && !zlib;
    stream = stream.pipeThrough(new DecompressionStream(raw ? "deflate-raw" : format));
  });
  return stream.getReader();
}

// Returns the response for the client (watched); a tee of its body is
// stored under `key` with the headers Rust set (`stored`) off
// the hot path (ctx.waitUntil), never delaying the client. The stored half
// is collected up to `maxBytes`: a body that grows past it, or breaks, is
// not stored (a cut copy is never served later); the client's half goes on
// either way, and so is one still coming after `withinMs`. `release` tells
// Rust the collecting is over.
export function store(response, ctx, waitUntil, key, stored, maxBytes, withinMs, release) {
  const [forClient, forCache] = response.body ? response.body.tee() : [null, null];
  const init = asSent(response);
  const store = collect(forCache, maxBytes, withinMs).then((parts) => {
    if (parts === null) return;
    return caches.open(K.cacheName).then((c) => c.put(key, new Response(replay(parts), { ...init, headers: stored })));
  });
  waitUntil.waitUntil(store.catch(ignore).finally(release));
  return watch(new Response(forClient, init), ctx);
}

// A good response that goes to the client unstored, its body watched.
export function pass(response, ctx) {
  return watch(response, ctx);
}

// The body's chunks when it is at most `max` bytes in all and whole
// within `withinMs`, else null.
async function collect(stream, max, withinMs) {
  if (stream === null) return [];
  const reader = stream.getReader();
  // A body still coming after `withinMs` (a stream the client left, a slow
  // drip) is not stored: the collecting ends before the runtime ends the
  // request's waitUntil, so what it took of the isolate's bound comes back.
  let late = false;
  const timer = setTimeout(() => {
    late = true;
    reader.cancel().catch(ignore);
  }, withinMs);
  const parts = [];
  let n = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      // A cancelled read ends as if the body had: never a cut copy.
      if (late) return null;
      if (done) return parts;
      n += value.byteLength;
      if (n > max) {
        reader.cancel().catch(ignore);
        return null;
      }
      parts.push(value);
    }
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

// The collected chunks as a body of known length (its Content-Length true),
// each chunk let go once written: never a second whole copy in memory.
function replay(parts) {
  const length = parts.reduce((n, p) => n + p.byteLength, 0);
  const { readable, writable } = new FixedLengthStream(length);
  const writer = writable.getWriter();
  (async () => {
    while (parts.length > 0) await writer.write(parts.shift());
    await writer.close();
  })().catch((error) => writer.abort(error).catch(ignore));
  return readable;
}

// A response's init with its body passed as the origin encoded it.
function asSent(res) {
  return { status: res.status, statusText: res.statusText, headers: res.headers, encodeBody: "manual" };
}

// Looks up the copy stored under `key`: CacheHit with it, or CacheMiss. A
// request held off before its first attempt gets its context here.
export async function lookUp(ctx, journey, key) {
  ctx ??= new Context();
  ctx.journey = journey;
  try {
    const hit = await (await caches.open(K.cacheName)).match(key);
    if (hit) return came(ctx, K.kind.cacheHit, { response: hit });
  } catch {
    // No cache here (e.g. *.workers.dev): as if nothing was stored.
  }
  return came(ctx, K.kind.cacheMiss, {});
}

// The stored copy as the client gets it, with the headers Rust gives, its
// body as the origin encoded it and, when Rust gives its `length`, framed
// by it (a body from the cache is otherwise sent chunked).
export function asStale(hit, headers, length) {
  let body = hit.body;
  if (length !== undefined && body !== null) {
    const framed = new FixedLengthStream(length);
    body.pipeTo(framed.writable).catch(ignore);
    body = framed.readable;
  }
  return new Response(body, { status: hit.status, statusText: hit.statusText, headers, encodeBody: "manual" });
}

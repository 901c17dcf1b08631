// The equal-function baseline of `make bench`: error-shield's job written
// the way a JavaScript developer would, reasonably fast. Request id, the
// forwarded request, a header timeout, and on failure the uniform 500
// (problem JSON) plus one JSON log line with the first 2 KiB of a failing
// body, read as error-shield reads its excerpt. No formats, templates or
// retries.
const ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TIMEOUT_MS = 30000;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
// The problem JSON up to the id (ids are [A-Za-z0-9._:-]: nothing to escape).
const BODY_HEAD = '{"type":"about:blank","title":"Internal Server Error","status":500,' +
  '"detail":"Sorry, something went wrong on our side. Please try again in a moment.","request_id":"';

const EXCERPT_BYTES = 2048; // error-shield's LOG_ORIGIN_BODY_BYTES default
const decoder = new TextDecoder();

// The first `max` bytes of a failing body as text, the rest cancelled.
async function head(body, max) {
  if (body === null) return "";
  const reader = body.getReader();
  const parts = [];
  let n = 0;
  try {
    while (n < max) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value.subarray(0, max - n));
      n += Math.min(value.byteLength, max - n);
    }
  } catch {
    // Reset mid-body: log what arrived.
  }
  reader.cancel().catch(() => {});
  let text = "";
  for (const p of parts) text += decoder.decode(p, { stream: true });
  return text + decoder.decode();
}

function newId() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  let s = "";
  for (let i = 0; i < 16; i++) s += HEX[b[i]];
  return s;
}

export default {
  async fetch(request, env) {
    const started = Date.now();
    const { url, headers } = request;
    const client = headers.get("x-request-id"), ray = headers.get("cf-ray");
    const id = client !== null && ID.test(client) ? client : ray !== null && ID.test(ray) ? ray : newId();
    // Host and path + query by slicing the URL: no URL object per request.
    const host = url.indexOf("//") + 2, path = url.indexOf("/", host);
    const base = env.ORIGIN_URL.endsWith("/") ? env.ORIGIN_URL.slice(0, -1) : env.ORIGIN_URL;
    const out = new Request(base + url.slice(path), request);
    out.headers.set("x-request-id", id);
    out.headers.set("x-forwarded-host", url.slice(host, path));
    out.headers.set("x-error-shield-hop", "1");
    // The timeout covers the response headers only: cleared once they arrive.
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
    let res, cause, excerpt;
    try {
      res = await fetch(out, { redirect: "manual", signal: ctl.signal });
      if (res.status < 500 || res.status > 599) return res;
      cause = "origin_error_status";
      excerpt = await head(res.body, EXCERPT_BYTES); // logged, as error-shield does
    } catch {
      cause = ctl.signal.aborted ? "origin_timeout" : "origin_unreachable";
    } finally {
      clearTimeout(timer);
    }
    console.error(JSON.stringify({ level: "error", cause, request_id: id, method: request.method, url,
      origin_status: res?.status, origin_body: excerpt, duration_ms: Date.now() - started }));
    return new Response(BODY_HEAD + id + '"}', { status: 500, headers: {
      "content-type": "application/problem+json", "cache-control": "no-store", "x-request-id": id,
      "x-content-type-options": "nosniff", vary: "Accept" } });
  },
};

// The equal-function baseline of `make bench`: error-shield's job written
// the way a JavaScript developer would, reasonably fast. Request id, the
// forwarded request, a header timeout, and on failure the uniform 500
// (problem JSON) plus one JSON log line. No formats, templates or retries.
const ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TIMEOUT_MS = 30000;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
// The problem JSON up to the id (ids are [A-Za-z0-9._:-]: nothing to escape).
const BODY_HEAD = '{"type":"about:blank","title":"Internal Server Error","status":500,' +
  '"detail":"Sorry, something went wrong on our side. Please try again in a moment.","request_id":"';

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
    let res, cause;
    try {
      res = await fetch(out, { redirect: "manual", signal: ctl.signal });
      if (res.status < 500 || res.status > 599) return res;
      cause = "origin_error_status";
      res.body?.cancel().catch(() => {}); // a failing body is never read
    } catch {
      cause = ctl.signal.aborted ? "origin_timeout" : "origin_unreachable";
    } finally {
      clearTimeout(timer);
    }
    console.error(JSON.stringify({ level: "error", cause, request_id: id, method: request.method, url,
      origin_status: res?.status, duration_ms: Date.now() - started }));
    return new Response(BODY_HEAD + id + '"}', { status: 500, headers: {
      "content-type": "application/problem+json", "cache-control": "no-store", "x-request-id": id,
      "x-content-type-options": "nosniff", vary: "Accept" } });
  },
};

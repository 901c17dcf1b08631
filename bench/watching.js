// The watching peer of `make bench`: the equal-function worker (equal.js,
// unchanged) plus what a JavaScript developer adds to hear of a body that
// breaks after the headers, and nothing more. The body goes through a
// native pipe (a FixedLengthStream of the origin's length when the bytes
// are the ones that length counts, so a cut body still ends short; else an
// IdentityTransformStream), and a pipe that fails writes one JSON log line.
// This is the peer error-shield's default (WATCH_BODIES=on) is measured
// against. (A client that leaves mid-body fails the pipe too: telling the
// two apart takes more than this, and the bench never leaves mid-body.)
import equal from "./equal.js";

const NO_BODY = new Set([101, 204, 205, 304]);
const ID = /^[A-Za-z0-9._:-]{1,128}$/; // equal.js's rule for a given id

export default {
  async fetch(request, env, ctx) {
    const res = await equal.fetch(request, env);
    // equal.js passes every status outside 500–599 from the origin; the
    // rest is its own uniform 500, which needs no watch.
    const passed = res.status < 500 || res.status > 599;
    if (!passed || res.body === null || request.method === "HEAD" || NO_BODY.has(res.status)) return res;
    return watched(request, res, ctx);
  },
};

function watched(request, res, ctx) {
  // The origin's length counts the bytes of the body only when no transfer
  // coding framed it and no content coding was decoded by fetch (equal.js
  // fetches with the default, decoding, and the runtime re-encodes).
  const h = res.headers;
  const length = h.has("transfer-encoding") || h.has("content-encoding") ? null : h.get("content-length");
  const pipe = length !== null ? new FixedLengthStream(Number(length)) : new IdentityTransformStream();
  ctx.waitUntil(
    res.body.pipeTo(pipe.writable).catch((error) => {
      console.error(JSON.stringify({ level: "error", cause: "origin_unreachable", after_headers: true,
        request_id: given(request.headers), method: request.method, url: request.url,
        origin_status: res.status, expected_bytes: length === null ? undefined : Number(length),
        message: String(error) }));
    }),
  );
  return new Response(pipe.readable, res);
}

// The id equal.js forwarded, when the client or cf-ray gave it (one it
// made up stays inside equal.js, which is kept as it is).
function given(headers) {
  const client = headers.get("x-request-id"), ray = headers.get("cf-ray");
  return client !== null && ID.test(client) ? client : ray !== null && ID.test(ray) ? ray : undefined;
}

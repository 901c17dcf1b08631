// The watching peer of `make bench`: the equal-function worker (equal.js,
// unchanged) plus what a JavaScript developer adds to hear of a body that
// breaks after the headers, and nothing more. The body goes through a
// native pipe (a FixedLengthStream of the origin's length when it gave one,
// so a cut body still ends short; else an IdentityTransformStream), and a
// pipe that fails writes one JSON log line. This is the peer error-shield's
// default (WATCH_BODIES=on) is measured against.
import equal from "./equal.js";

const NO_BODY = new Set([101, 204, 205, 304]);

export default {
  async fetch(request, env, ctx) {
    const res = await equal.fetch(request, env);
    // equal.js passes every status outside 500–599 from the origin; the
    // rest is its own uniform 500, which needs no watch.
    const passed = res.status < 500 || res.status > 599;
    if (!passed || res.body === null || NO_BODY.has(res.status)) return res;
    return watched(request, res, ctx);
  },
};

function watched(request, res, ctx) {
  // The runtime's own framing: a length only when it did not use a
  // transfer coding.
  const length = res.headers.has("transfer-encoding") ? null : res.headers.get("content-length");
  const pipe = length !== null ? new FixedLengthStream(Number(length)) : new IdentityTransformStream();
  ctx.waitUntil(
    res.body.pipeTo(pipe.writable).catch((error) => {
      console.error(JSON.stringify({ level: "error", cause: "origin_unreachable", after_headers: true,
        request_id: request.headers.get("x-request-id"), url: request.url, expected_bytes: length === null ? undefined : Number(length),
        message: String(error) }));
    }),
  );
  return new Response(pipe.readable, res);
}

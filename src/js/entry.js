// The worker's entry: a trampoline between Rust, which decides, and the
// executor (runtime.js, called by Rust), which does the I/O.
//
//   decide(request)   → a Response (an answer found before the fetch), or a
//                       promise of the origin's Response (maybe watched:
//                       { response, tail }) or of the request's Context
//                       with what came back;
//   conclude(context) → the same again: a Response (the uniform error, a
//                       stale copy, a stored good response) or a promise
//                       (a retry, a cache look-up);
//   either may also give the promise of an answer's pages (the pages
//   folder's files): `dressed(carrier)` then gives the answer.
//
// A pass-through costs one call into Rust. No Rust future ever runs, so a
// Wasm trap always surfaces here as an exception, and Rust's `trap` answers
// it on the re-instantiated module. Names and the last-resort answer come
// from Rust once, at load.
//
// The request's root span (Workers tracing) is taken here, as the request
// enters, and handed to every call into Rust: only Rust sets anything on
// it, and only on a failure. A runtime without `tracing` hands `undefined`.
import * as platform from "cloudflare:workers";
import { WorkerEntrypoint } from "cloudflare:workers";
import Rust from "./shield.js";

const { constants, decide, conclude, broken, trap, dressed } = Rust.prototype;
const K = constants();
const tracing = platform.tracing;

export default class ErrorShield extends WorkerEntrypoint {
  fetch(request) {
    const { env, ctx: exec } = this;
    const { headers } = request;
    const span = tracing?.getActiveSpan();
    let step;
    try {
      step = decide(
        request,
        env,
        request.url,
        headers.get(K.requestId),
        headers.get(K.traceparent),
        headers.get(K.cfRay),
        headers.get(K.hop),
        span,
      );
    } catch (error) {
      return trapped(request, env, exec, span, error, undefined, NOT_SENT, TRAP);
    }
    // From here the request may be on its way: Rust hears so of any
    // failure on this path.
    return follow(request, env, exec, span, step, undefined);
  }
}

// What came back: a Response, a watched one, or the request's Context for
// Rust's judgement.
function settle(request, env, exec, span, out) {
  if (out instanceof Response) return out;
  // An answer whose pages came back from the pages folder. Should dressing
  // it fail, the answer as it was (complete, recorded) goes out: never a
  // second answer, never a loop through the folder again.
  if (out.pages !== undefined) {
    try {
      return dressed(env, out);
    } catch {
      return out.response;
    }
  }
  if (out.tail !== undefined) {
    exec.waitUntil(out.tail.then((c) => c && record(request, env, span, c)));
    return out.response;
  }
  let step;
  try {
    step = conclude(request, env, exec, out, span);
  } catch (error) {
    return trapped(request, env, exec, span, error, out.journey, SENT, TRAP);
  }
  return follow(request, env, exec, span, step, out.journey);
}

// A step is the answer (a Response, a watched one) or the promise of the
// next. The executor never rejects; should a promise reject all the same,
// the client still gets the uniform 500 and the record a worker_error.
function follow(request, env, exec, span, step, journey) {
  if (typeof step.then !== "function") return settle(request, env, exec, span, step);
  // `.catch` after `.then`: a throw while settling is answered too.
  return step
    .then((out) => settle(request, env, exec, span, out))
    .catch((error) => trapped(request, env, exec, span, error, journey, SENT, REJECTED));
}

// A body that broke after its headers reached the client: only a record
// (the last resort's, should even that trap).
function record(request, env, span, context) {
  try {
    broken(request, env, context, span);
  } catch (error) {
    const r = K.lastResort;
    console.error(r.recordHead + JSON.stringify(kind(error)) + r.recordTail);
  }
}

// Where a failure caught the request, as the entry knows it: whether the
// request may be on its way (what follows is Rust's: fail-open only sends
// what was never sent), and whether the Wasm instance trapped or a promise
// was rejected.
const NOT_SENT = false;
const SENT = true;
const TRAP = true;
const REJECTED = false;

// A failure answered by Rust (after a trap, on the re-instantiated module)
// under the id the request's journey already has: the uniform 500, or
// (fail-open, before the request was sent) the promise of the origin's
// answer. If even that fails, the prebuilt last-resort answer.
function trapped(request, env, exec, span, error, journey, sent, wasm) {
  let step;
  try {
    step = trap(request, env, describe(error), journey, sent, wasm, span);
  } catch (again) {
    const r = K.lastResort;
    console.error(r.recordHead + JSON.stringify(`${kind(error)}; then ${kind(again)}`) + r.recordTail);
    return new Response(r.body, { status: r.status, headers: r.headers });
  }
  // The request is on its way now: a failure on that path is answered too.
  return step instanceof Response ? step : follow(request, env, exec, span, step, journey);
}

function describe(error) {
  return String(error?.stack ?? error);
}

// What the last resort may log of an error it cannot redact (no Rust is
// left to do it): its kind only, never a message that may quote a URL.
function kind(error) {
  return String(error?.name ?? typeof error);
}

// The baseline of `make bench`: the smallest JavaScript pass-through worker.
// Same job as error-shield's success path, nothing else.
export default {
  fetch(request, env) {
    const { pathname, search } = new URL(request.url);
    const url = env.ORIGIN_URL.replace(/\/$/, "") + pathname + search;
    return fetch(new Request(url, request), { redirect: "manual" });
  },
};

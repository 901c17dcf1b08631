// The pages folder's I/O (the `ERROR_PAGES` static-assets binding): Rust
// names the files an answer may use, this fetches them, all at once, and
// hands the bytes back on the carrier for Rust's `dressed`. No choice is
// made here. Never rejects.

// Each of `names` under `base` as [name, bytes]: null when the folder has no
// such file, the size when it is bigger than `max` (not read), undefined
// when the binding failed (not remembered: tried again next time).
export function fetchPages(binding, base, names, max, carrier) {
  return Promise.all(names.map((name) => one(binding, base, name, max))).then((files) => {
    carrier.pages = files;
    return carrier;
  });
}

async function one(binding, base, name, max) {
  try {
    const res = await binding.fetch(new Request(base + name));
    if (res.status === 404) return [name, null];
    const size = Number(res.headers.get("content-length") ?? -1);
    if (!res.ok || size > max) {
      res.body?.cancel().catch(() => {});
      return [name, res.ok ? size : undefined];
    }
    return [name, new Uint8Array(await res.arrayBuffer())];
  } catch {
    return [name, undefined];
  }
}

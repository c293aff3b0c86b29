// The admin API client. The token lives in sessionStorage (gone when the tab closes) and
// travels only in the Authorization header, never in a URL.

const KEY = "ztp-admin-token";

export class ApiError extends Error {
  constructor(status, message, field) {
    super(message);
    this.status = status;
    this.field = field ?? null;
  }
}

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (t) => sessionStorage.setItem(KEY, t),
  clear: () => sessionStorage.removeItem(KEY),
};

let onUnauthorized = () => {};
export function setUnauthorizedHandler(f) { onUnauthorized = f; }

function headers(extra = {}) {
  return { Authorization: `Bearer ${token.get() ?? ""}`, ...extra };
}

async function errorOf(res) {
  let body = {};
  try { body = await res.json(); } catch { /* not JSON */ }
  return new ApiError(res.status, body.error ?? `${res.status} ${res.statusText}`, body.field);
}

/** `api("GET", "/sites")`; a JSON body for POST/PUT/PATCH; resolves to JSON or null. */
export async function api(method, path, body, { quiet401 = false } = {}) {
  let res;
  try {
    res = await fetch(`/api${path}`, {
      method,
      headers: headers(body === undefined ? {} : { "Content-Type": "application/json" }),
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "the edge cannot be reached (offline?); nothing was saved");
  }
  if (res.status === 401 && !quiet401) onUnauthorized();
  if (!res.ok) throw await errorOf(res);
  if (res.status === 204) return null;
  return res.json();
}

/**
 * `GET /api<path>` as a file: resolves to {blob, filename} (the Content-Disposition's name).
 * The token goes in the header as for every call, so a download never puts it in a URL.
 */
export async function apiBlob(path) {
  let res;
  try {
    res = await fetch(`/api${path}`, { headers: headers(), cache: "no-store" });
  } catch {
    throw new ApiError(0, "the edge cannot be reached (offline?)");
  }
  if (res.status === 401) onUnauthorized();
  if (!res.ok) throw await errorOf(res);
  const m = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") ?? "");
  return { blob: await res.blob(), filename: m?.[1] ?? null };
}

/** `/sites/<site>` with the id escaped. */
export const sitePath = (site, ...rest) =>
  ["/sites", site, ...rest].map((s, i) => (i === 0 ? s : encodeURIComponent(s))).join("/");

/**
 * Uploads `file` as the raw body of `POST path?query` (or `method`: PUT replaces a stored
 * file) with XHR (fetch has no upload progress); `progress(sent, total)` on the way.
 * Resolves to the JSON answer.
 */
export function upload(path, query, file, progress, method = "POST") {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, `/api${path}?${new URLSearchParams(query)}`);
    xhr.setRequestHeader("Authorization", `Bearer ${token.get() ?? ""}`);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.addEventListener("progress", (e) => progress(e.loaded, e.lengthComputable ? e.total : file.size));
    xhr.addEventListener("load", () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else {
        if (xhr.status === 401) onUnauthorized();
        reject(new ApiError(xhr.status, body.error ?? `${xhr.status} ${xhr.statusText}`, body.field));
      }
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "the upload failed (network error)")));
    xhr.addEventListener("abort", () => reject(new ApiError(0, "the upload was cancelled")));
    xhr.send(file);
  });
}

// Talking to the StyleMixer API: every failure becomes an ApiError whose message is a sentence a
// person can act on (the API's own `error.message` when it sent one), never a bare status code.

/**
 * A failed API call. `retryable` is true for network trouble, server-side failures and refusals
 * that waiting cures; `retryAfter` is the seconds the server said to wait (Retry-After), or null.
 */
export class ApiError extends Error {
  constructor(message, { code = "Error", status = 0, retryable = false, retryAfter = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
    this.retryable = retryable;
    this.retryAfter = retryAfter;
  }
}

/** The seconds of a `Retry-After` header (a number of seconds, or a date), or null. */
function retryAfterOf(response) {
  const value = response.headers.get("Retry-After");
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, Math.round((at - Date.now()) / 1000)) : null;
}

const NETWORK_MESSAGE = "We could not reach StyleMixer. Check your internet connection and try again.";
const UNREADABLE_MESSAGE = "StyleMixer sent an answer this page could not read. Please try again.";

/** The sentence to show when the server did not send one of its own. */
function fallbackMessage(status) {
  if (status === 404) return "We could not find what you asked for. It may have expired; please start again.";
  if (status === 413) return "That file is too large. Please choose a smaller picture.";
  if (status === 429) return "StyleMixer is busy right now. Please wait a moment and try again.";
  if (status >= 500) return "Something went wrong on our side. Please try again in a minute.";
  return "StyleMixer could not accept that request. Please check your choices and try again.";
}

/** Reads `config.json`, which says where the API is and which limits the page checks first. */
export async function loadConfig() {
  let response;
  try {
    response = await fetch("config.json", { cache: "no-store" });
  } catch {
    throw new ApiError(NETWORK_MESSAGE, { code: "NetworkError", retryable: true });
  }
  if (!response.ok) {
    throw new ApiError("The page could not load its settings. Please reload it in a minute.", {
      code: "ConfigMissing",
      status: response.status,
      retryable: true,
    });
  }
  return response.json();
}

/**
 * A small client for one API base URL (e.g. "/api" locally, "https://…/" when deployed). `isId`
 * is the API's id rule: an id that breaks it is never sent, and an answer carrying one is refused.
 * `ownerToken(jobId)` gives the owner token this browser holds for a job (or null): it is sent
 * with the requests about that job, so its owner sees the photo and may delete it.
 */
export class Api {
  constructor(baseUrl, isId, ownerToken = () => null) {
    this.baseUrl = String(baseUrl || "").replace(/\/+$/, "");
    this.isId = isId;
    this.ownerToken = ownerToken;
  }

  /** `payload` if its `field` is a well-formed id, else an ApiError (the answer cannot be used). */
  withId(payload, field) {
    if (!this.isId(payload[field])) throw new ApiError(UNREADABLE_MESSAGE, { code: "BadResponse" });
    return payload;
  }

  async request(method, path, body, { token = null } = {}) {
    const init = { method, headers: { Accept: "application/json" }, cache: "no-store" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (token) init.headers.Authorization = `Bearer ${token}`;
    let response;
    try {
      response = await fetch(this.baseUrl + path, init);
    } catch {
      throw new ApiError(NETWORK_MESSAGE, { code: "NetworkError", retryable: true });
    }
    let payload;
    try {
      payload = await response.json();
    } catch {
      payload = null;
    }
    if (!response.ok) {
      const error = payload && typeof payload === "object" ? payload.error : null;
      const message = error && typeof error.message === "string" && error.message ? error.message : null;
      throw new ApiError(message || fallbackMessage(response.status), {
        code: (error && typeof error.code === "string" && error.code) || "HttpError",
        status: response.status,
        retryable: response.status >= 500 || response.status === 429,
        retryAfter: retryAfterOf(response),
      });
    }
    if (response.status === 204) return {};
    if (payload === null) {
      throw new ApiError(UNREADABLE_MESSAGE, {
        code: "BadResponse",
        status: response.status,
        retryable: true,
      });
    }
    return payload;
  }

  /** `GET /styles` → [{id, name, thumbnail_url}]. */
  async styles() {
    const payload = await this.request("GET", "/styles");
    return Array.isArray(payload.styles) ? payload.styles : [];
  }

  /** `POST /uploads` → {upload_id, url, fields, expires_at, max_bytes, usable_until}. */
  async createUpload(purpose, contentType, size) {
    const answer = await this.request("POST", "/uploads", { purpose, content_type: contentType, size });
    return this.withId(answer, "upload_id");
  }

  /** `POST /jobs` → {job_id, status, links, owner_token}. */
  async createJob(request) {
    return this.withId(await this.request("POST", "/jobs", request), "job_id");
  }

  /** `GET /jobs/{id}` → {job_id, status, stage, progress, request, owner, error?, result?}. */
  async job(jobId) {
    return this.request("GET", this.jobPath(jobId), undefined, { token: this.ownerToken(jobId) });
  }

  /** `DELETE /jobs/{id}`: the job, its pictures and its photo, with this browser's owner token. */
  async deleteJob(jobId) {
    await this.request("DELETE", this.jobPath(jobId), undefined, { token: this.ownerToken(jobId) });
  }

  jobPath(jobId) {
    if (!this.isId(jobId)) {
      throw new ApiError("That job link is not valid, so it was not looked up. Start a new job below.", {
        code: "InvalidJobId",
      });
    }
    return `/jobs/${encodeURIComponent(jobId)}`;
  }
}

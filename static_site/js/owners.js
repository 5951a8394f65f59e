// The owner tokens of this visit's jobs: POST /jobs hands each job's token out once, and only the
// browser holding it sees the job's photo and may delete the job. They are kept beside the strip's
// job ids (localStorage), for the same jobs, and go when a job leaves the strip. A job opened from
// a shared link has no token here: the page shows its result and its styles, nothing more.

const STORE_KEY = "stylemixer.owners";
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

let tokens = null; // job id -> token, read once

function load() {
  if (tokens) return tokens;
  tokens = new Map();
  try {
    const stored = JSON.parse(window.localStorage.getItem(STORE_KEY) || "{}");
    for (const [jobId, token] of Object.entries(stored && typeof stored === "object" ? stored : {})) {
      if (typeof token === "string" && TOKEN.test(token)) tokens.set(jobId, token);
    }
  } catch {
    // Unreadable: no tokens (the jobs still show their results).
  }
  return tokens;
}

function save() {
  try {
    window.localStorage.setItem(STORE_KEY, JSON.stringify(Object.fromEntries(load())));
  } catch {
    // Storage refused (private browsing, full): the tokens last as long as this page.
  }
}

/** Keeps `token` as the owner token of `jobId` (what POST /jobs answered). */
export function rememberOwner(jobId, token) {
  if (typeof token !== "string" || !TOKEN.test(token)) return;
  load().set(jobId, token);
  save();
}

/** The owner token of `jobId`, or null when this browser did not send the job. */
export function ownerToken(jobId) {
  return load().get(jobId) || null;
}

/** Forgets the token of `jobId` (the job was deleted, or left the strip). */
export function forgetOwner(jobId) {
  if (load().delete(jobId)) save();
}

/** Keeps only the tokens of `jobIds` (the jobs the strip still holds). */
export function keepOwners(jobIds) {
  const kept = new Set(jobIds);
  let changed = false;
  for (const jobId of [...load().keys()]) {
    if (!kept.has(jobId)) {
      load().delete(jobId);
      changed = true;
    }
  }
  if (changed) save();
}

// Follows one job until it ends: about once a second while all is well, backing off (doubling up to
// 15 s) while the network or the server is in trouble, and giving up only on an answer that cannot
// change by waiting (an unknown or malformed job id).

const MAX_DELAY_MS = 15000;

/** Friendly words for the stages a job reports (stylemixer/progress.py); unknown ones are shown as they come. */
const STAGE_WORDS = {
  queued: "Waiting for a free painter",
  fetching: "Fetching your pictures",
  prepare: "Preparing your photo",
  style: "Studying the style",
  stylize: "Painting",
  finish: "Finishing",
  saving: "Saving the picture",
  done: "Done",
  failed: "Stopped",
};

/** The words shown for a job's status and stage. */
export function describeStage(job) {
  if (job.status === "queued") return STAGE_WORDS.queued;
  if (job.status === "succeeded") return STAGE_WORDS.done;
  if (job.status === "failed") return STAGE_WORDS.failed;
  const stage = typeof job.stage === "string" ? job.stage : "";
  if (STAGE_WORDS[stage]) return STAGE_WORDS[stage];
  if (!stage) return "Working";
  const words = stage.replace(/[_-]+/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * Polls `api.job(jobId)`. Calls `onUpdate(job)` for each answer and `onRetry(error, delayMs)` when
 * it backs off. Returns {done, cancel}: `done` resolves with the job once it has succeeded or failed.
 */
export function followJob(api, jobId, { intervalMs = 1000, onUpdate = () => {}, onRetry = () => {} } = {}) {
  let timer = null;
  let cancelled = false;
  let delay = intervalMs;

  const done = new Promise((resolve, reject) => {
    const tick = async () => {
      if (cancelled) return;
      try {
        const job = await api.job(jobId);
        if (cancelled) return;
        delay = intervalMs;
        onUpdate(job);
        if (job.status === "succeeded" || job.status === "failed") {
          resolve(job);
          return;
        }
      } catch (error) {
        if (cancelled) return;
        if (!error.retryable) {
          reject(error);
          return;
        }
        delay = Math.min(delay * 2, MAX_DELAY_MS);
        onRetry(error, delay);
      }
      timer = setTimeout(tick, delay);
    };
    tick();
  });

  return {
    done,
    cancel() {
      cancelled = true;
      if (timer !== null) clearTimeout(timer);
    },
  };
}

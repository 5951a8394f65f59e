// Follows one job until it ends, paced by polling.js (quick while it moves, slower while it waits,
// honouring Retry-After, paused while the tab is hidden), giving up only on an answer that cannot
// change by waiting (an unknown or malformed job id).
import { nextDelay, pacing, troubleDelay, waitVisible } from "./polling.js";

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
 * Polls `api.job(jobId)`, paced by `config` (config.json's `poll_*`). Calls `onUpdate(job)` for each
 * answer and `onRetry(error, delayMs)` when it backs off. Returns {done, cancel}: `done` resolves
 * with the job once it has succeeded or failed.
 */
export function followJob(api, jobId, { config = {}, onUpdate = () => {}, onRetry = () => {} } = {}) {
  const pace = pacing(config);
  const stop = new AbortController();
  // The pace of answers and the back-off of failures are kept apart: once the API answers again,
  // polling goes back to its own pace instead of growing from the last back-off.
  let delay = pace.interval;
  let troubled = pace.interval;
  let before = null;

  const done = (async () => {
    for (;;) {
      let wait;
      try {
        const job = await api.job(jobId);
        if (stop.signal.aborted) return new Promise(() => {});
        onUpdate(job);
        if (job.status === "succeeded" || job.status === "failed") return job;
        delay = nextDelay(pace, job, before, delay);
        troubled = pace.interval;
        before = job;
        wait = delay;
      } catch (error) {
        if (stop.signal.aborted) return new Promise(() => {});
        if (!error.retryable) throw error;
        troubled = troubleDelay(pace, error, troubled);
        onRetry(error, troubled);
        wait = troubled;
      }
      await waitVisible(wait, stop.signal);
      if (stop.signal.aborted) return new Promise(() => {});
    }
  })();

  return {
    done,
    cancel() {
      stop.abort();
    },
  };
}

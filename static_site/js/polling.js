// How often the page asks about a job, so that many people watching cost little: quickly while its
// progress moves, backing off while it does not and further while it waits in the queue (a queued
// job moves only when a worker takes it), never sooner than a refusal's Retry-After, and not at
// all while the tab is hidden (asking again at once when it is shown).

/** The pacing, from config.json: `poll_interval_ms`, `poll_slow_ms`, `poll_queued_ms`. */
export function pacing(config = {}) {
  const interval = Number(config.poll_interval_ms) || 1000;
  return {
    interval,
    slow: Math.max(interval, Number(config.poll_slow_ms) || 4 * interval),
    queued: Math.max(interval, Number(config.poll_queued_ms) || 10 * interval),
    trouble: 15000,
  };
}

const GROWTH = 1.5;

/** Whether `job` moved since `before` (another status, stage or percent). */
function moved(job, before) {
  return !before || job.status !== before.status || job.stage !== before.stage || job.progress !== before.progress;
}

/**
 * The wait before the next poll, after an answer `job` (the one before it `before`, the last wait
 * `delay`): the interval while it moves, growing by half each time it does not, up to `slow` while
 * it runs and `queued` while it waits.
 */
export function nextDelay(pace, job, before, delay) {
  if (job.status === "queued") {
    return Math.min(pace.queued, Math.max(2 * pace.interval, Math.round(delay * GROWTH)));
  }
  if (moved(job, before)) return pace.interval;
  return Math.min(pace.slow, Math.max(pace.interval, Math.round(delay * GROWTH)));
}

/**
 * The wait after a failed poll: the server's `Retry-After` when it sent one, else doubling up to
 * `trouble` (15 s), never less than the interval.
 */
export function troubleDelay(pace, error, delay) {
  const told = Number(error && error.retryAfter) * 1000;
  if (Number.isFinite(told) && told > 0) return Math.max(pace.interval, told);
  return Math.min(pace.trouble, Math.max(pace.interval, delay * 2));
}

/**
 * Resolves after `ms`, but only while the page is visible: hidden, it waits until it is shown
 * again, then resolves at once (the person is back: show them where the job is). `signal` aborts.
 */
export function waitVisible(ms, signal) {
  return new Promise((resolve) => {
    let timer = null;
    let due = false;
    const done = () => {
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const onVisibility = () => {
      if (!document.hidden && due) done();
    };
    timer = setTimeout(() => {
      due = true;
      if (!document.hidden) done();
    }, ms);
    document.addEventListener("visibilitychange", onVisibility);
    signal?.addEventListener("abort", done, { once: true });
  });
}

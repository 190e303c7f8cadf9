// Retry delays shared by the uploader and the realtime client.

/**
 * Exponential backoff with "full jitter": a random delay between 0 and
 * min(maxMs, baseMs * 2^attempt). The randomness matters more than the curve:
 * when a server restarts, every client that lost it retries at once, and
 * without jitter they keep arriving in synchronized waves.
 *
 * @param {number} attempt 0 for the first retry
 * @param {{baseMs?: number, maxMs?: number, random?: () => number}} [options]
 * @returns {number} milliseconds to wait
 */
export function backoffDelay(attempt, { baseMs = 500, maxMs = 30_000, random = Math.random } = {}) {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}

/**
 * Resolve after `ms`, or reject with the signal's reason as soon as it aborts,
 * so an aborted upload does not sit out the rest of a long backoff.
 *
 * @param {number} ms
 * @param {AbortSignal} [signal]
 * @returns {Promise<void>}
 */
export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    function onAbort() {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A server-sent events client over fetch (EventSource cannot send the Authorization header, and
 * GET /events needs it when auth.protectReads is on). Reconnects with exponential backoff and
 * jitter (0.5 s doubling to 15 s), reset once a stream delivered its first event; a stream silent
 * for longer than three heartbeats is treated as dead and reopened.
 */

const INITIAL_DELAY_MS = 500;
const MAX_DELAY_MS = 15_000;
const SILENCE_LIMIT_MS = 50_000;

/** The delay before reconnect attempt `attempt` (0-based): exponential, capped, jittered to 50–100 %. */
export function reconnectDelayMs(attempt, random = Math.random) {
  const base = Math.min(MAX_DELAY_MS, INITIAL_DELAY_MS * 2 ** Math.min(attempt, 10));
  return Math.round(base * (0.5 + random() / 2));
}

/** Splits SSE text into complete events; returns them and the unfinished rest. */
export function parseEvents(text) {
  const events = [];
  const blocks = text.split(/\r?\n\r?\n/);
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    let name = 'message';
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') name = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) events.push({ name, data: data.join('\n') });
  }
  return { events, rest };
}

/**
 * Follows `url` until stop() is called. `headers()` is read on every (re)connect; `onEvent(name,
 * data)` gets each event with its data parsed as JSON; `onState(state, detail)` tells 'connecting',
 * 'live', 'waiting' (with the delay) and 'unauthorized'; `onUnauthorized()` returns a promise that
 * settles when a new token may be tried.
 */
export function followEvents({ url, headers, onEvent, onState, onUnauthorized }) {
  let stopped = false;
  let attempt = 0;
  let controller = null;
  let retryTimer = null;
  let silenceTimer = null;

  const armSilence = () => {
    clearTimeout(silenceTimer);
    silenceTimer = setTimeout(() => controller?.abort(), SILENCE_LIMIT_MS);
  };

  const scheduleRetry = () => {
    if (stopped) return;
    const delayMs = reconnectDelayMs(attempt++);
    onState('waiting', { delayMs });
    retryTimer = setTimeout(open, delayMs);
  };

  async function open() {
    if (stopped) return;
    onState('connecting', {});
    controller = new AbortController();
    try {
      const response = await fetch(url, {
        headers: { accept: 'text/event-stream', ...headers() },
        signal: controller.signal,
        cache: 'no-store',
      });
      if (response.status === 401) {
        onState('unauthorized', {});
        await onUnauthorized();
        if (!stopped) setTimeout(open, 0);
        return;
      }
      if (!response.ok || response.body === null) throw new Error(`HTTP ${response.status}`);
      armSilence();
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        armSilence();
        buffer += value;
        const { events, rest } = parseEvents(buffer);
        buffer = rest;
        for (const event of events) {
          if (attempt !== 0 || event.name === 'snapshot') {
            attempt = 0;
            onState('live', {});
          }
          let data;
          try {
            data = JSON.parse(event.data);
          } catch {
            continue;
          }
          onEvent(event.name, data);
        }
      }
    } catch {
      // Network error, abort by the silence watchdog or by stop(): retry unless stopped.
    } finally {
      clearTimeout(silenceTimer);
    }
    scheduleRetry();
  }

  open();
  return {
    stop() {
      stopped = true;
      clearTimeout(retryTimer);
      clearTimeout(silenceTimer);
      controller?.abort();
    },
  };
}

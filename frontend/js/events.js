// Long-polls the bridge's event queue and hands each event to its listeners.

// While a reply streams, the page takes its text (and so draws the reply) once a pace: the
// bridge holds streamed text back until then, and sends any other event (the reply's end, a
// tool call) at once. The bridge says the pace with each answer (transports/pace.py: slower
// when the local model's threads take every core, as each frame costs CPU).
export const FIRST_PACE_MS = 150;
const STREAMED = new Set(["token", "reasoning"]); // events.py STREAMED

export class EventStream {
  constructor(api, after) {
    this.api = api;
    this.after = after;
    this.listeners = new Map();
    this.running = false;
    this.pace = FIRST_PACE_MS;
  }

  on(type, listener) {
    if (!this.listeners.has(type)) this.listeners.set(type, []);
    this.listeners.get(type).push(listener);
  }

  start() {
    this.running = true;
    this.loop();
  }

  async loop() {
    let failures = 0;
    let streamedAt = -Infinity; // when the last batch that ended in streamed text came
    while (this.running) {
      try {
        const hold = Math.max(0, this.pace - (performance.now() - streamedAt)) / 1000;
        const batch = await this.api.call("poll_events", { after: this.after, timeout: 20, hold_streamed: hold });
        failures = 0;
        if (Number.isFinite(batch.stream_pace_ms)) this.pace = batch.stream_pace_ms;
        // Paced only while text is still coming: after a reply's end the next one starts at once.
        streamedAt = STREAMED.has(batch.events.at(-1)?.type) ? performance.now() : -Infinity;
        for (const event of batch.events) {
          this.after = event.seq;
          for (const listener of this.listeners.get(event.type) ?? []) {
            try {
              listener(event);
            } catch (error) {
              console.error("event listener failed", event.type, error);
            }
          }
        }
      } catch (error) {
        failures += 1;
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 250 * failures)));
      }
    }
  }
}

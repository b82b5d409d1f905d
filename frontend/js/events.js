// Long-polls the bridge's event queue and hands each event to its listeners.

// While a reply streams, the page takes its text (and so draws the reply) once a pace: each
// answer says how long the next poll may hold streamed text back (0 once the text has stopped
// coming), and the bridge still sends any other event (the reply's end, a tool call) at once.
// The pace is slower when the local model's threads take every core (transports/pace.py).

export class EventStream {
  constructor(api, after) {
    this.api = api;
    this.after = after;
    this.listeners = new Map();
    this.running = false;
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
    let holdUntil = 0; // the time until which the next poll may hold streamed text back
    while (this.running) {
      try {
        const hold = Math.max(0, holdUntil - performance.now()) / 1000;
        const batch = await this.api.call("poll_events", { after: this.after, timeout: 20, hold_streamed: hold });
        failures = 0;
        holdUntil = performance.now() + (batch.hold_next_ms ?? 0);
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

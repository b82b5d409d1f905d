// Long-polls the bridge's event queue and hands each event to its listeners.

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
    while (this.running) {
      try {
        const batch = await this.api.call("poll_events", { after: this.after, timeout: 20 });
        failures = 0;
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

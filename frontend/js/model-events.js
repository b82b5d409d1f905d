// What the model engine and the downloads report, shown where it belongs: the status line,
// the Models pane, the welcome (a download under way dismisses it) and the notices; and the
// status line's Restart the model.

const RUNNING_AGAIN = "The model engine is running again: you can carry on.";

export class ModelEvents {
  constructor({ api, status, models, firstRun, notice }) {
    this.api = api;
    this.status = status;
    this.models = models;
    this.firstRun = firstRun;
    this.notice = notice;
  }

  listen(events) {
    let restarting = false;
    events.on("download_progress", ({ download }) => {
      this.models.onDownload(download);
      this.firstRun.dismiss(); // the welcome's "get the recommended model" is under way
      if (download.state === "done" && !this.models.isOpen) {
        this.notice.brief(`${download.file} is downloaded and verified: choose it in Models.`);
      }
    });
    events.on("models_changed", () => this.models.onModelsChanged());
    events.on("model_status", (event) => {
      this.status.showModel(event.status);
      this.models.onModelStatus(event.status);
      if (restarting && event.status.state === "ready") {
        restarting = false;
        this.notice.brief(RUNNING_AGAIN);
      } else if (restarting && event.status.state === "error") {
        restarting = false;
        this.notice.error(event.status.error.message);
      }
    });
    events.on("engine_crashed", (event) => {
      // After too many crashes it is not restarted: the status line then says so, with Restart.
      restarting = event.restarting;
      if (restarting) this.notice.warn(`${event.message}. Restarting it…`);
      else this.notice.hideIf(RUNNING_AGAIN); // not any more
    });
  }

  restart() {
    return this.notice.guard(() => this.api.call("restart_model"));
  }
}

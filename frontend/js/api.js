// One way to call the Python bridge, whichever transport carries it:
// the desktop window's pywebview js_api, or loopback HTTP with the per-launch token.

export class ApiError extends Error {
  constructor(code, message, details = {}) {
    super(message);
    this.code = code;
    this.details = details; // e.g. {fields: {"context.n_batch": "..."}} for settings_invalid
  }
}

function httpTransport(token) {
  return async (method, params) => {
    const response = await fetch(`/api/${encodeURIComponent(method)}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-LocalWork-Token": token },
      body: JSON.stringify(params ?? {}),
    });
    if (!response.ok) {
      throw new ApiError("transport", `The app did not answer (${response.status}).`);
    }
    return response.json();
  };
}

function pywebviewTransport() {
  return (method, params) => window.pywebview.api.call(method, params ?? {});
}

function whenPywebviewReady() {
  if (window.pywebview?.api?.call) return Promise.resolve();
  return new Promise((resolve) => {
    window.addEventListener("pywebviewready", () => resolve(), { once: true });
  });
}

export async function connect() {
  const token = document.querySelector('meta[name="localwork-token"]')?.content;
  let send;
  if (token) {
    send = httpTransport(token);
  } else {
    await whenPywebviewReady();
    send = pywebviewTransport();
  }
  return {
    transport: token ? "http" : "desktop",
    async call(method, params) {
      const reply = await send(method, params);
      if (!reply || !reply.ok) {
        const error = reply?.error ?? { code: "transport", message: "No answer from the app." };
        throw new ApiError(error.code, error.message, error);
      }
      return reply.data;
    },
  };
}

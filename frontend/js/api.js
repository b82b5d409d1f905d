// One way to call the Python bridge, whichever transport carries it:
// the desktop window's pywebview js_api, or loopback HTTP. Over HTTP the page holds no secret:
// the browser sends the HttpOnly session cookie that the printed address set (credentials.py).

export class ApiError extends Error {
  constructor(code, message, details = {}) {
    super(message);
    this.code = code;
    this.details = details; // e.g. {fields: {"context.n_batch": "..."}} for settings_invalid
  }
}

function httpTransport() {
  return async (method, params) => {
    const response = await fetch(`/api/${encodeURIComponent(method)}`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
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
  const served = document.querySelector('meta[name="localwork-transport"]')?.content === "http";
  let send;
  if (served) {
    send = httpTransport();
  } else {
    await whenPywebviewReady();
    send = pywebviewTransport();
  }
  return {
    transport: served ? "http" : "desktop",
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

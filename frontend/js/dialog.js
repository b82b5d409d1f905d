// Small modal dialogs (confirm / ask for text) on a native <dialog>.

const dialog = () => document.querySelector('[data-testid="dialog"]');

function open({ title, text = "", value = null, confirmLabel = "OK", danger = false }) {
  const element = dialog();
  const input = element.querySelector('[data-testid="dialog-input"]');
  const field = input.closest(".dialog-field");
  const confirm = element.querySelector('[data-testid="dialog-confirm"]');
  const cancel = element.querySelector('[data-testid="dialog-cancel"]');
  element.querySelector('[data-testid="dialog-title"]').textContent = title;
  element.querySelector('[data-testid="dialog-text"]').textContent = text;
  field.hidden = value === null;
  input.value = value ?? "";
  confirm.textContent = confirmLabel;
  confirm.classList.toggle("danger", danger);
  return new Promise((resolve) => {
    const finish = (result) => {
      element.removeEventListener("close", onClose);
      cancel.removeEventListener("click", onCancel);
      resolve(result);
    };
    const onClose = () => finish(element.returnValue === "ok" ? (value === null ? true : input.value) : null);
    const onCancel = () => element.close("cancel");
    element.addEventListener("close", onClose);
    cancel.addEventListener("click", onCancel);
    element.returnValue = "";
    element.showModal();
    (value === null ? confirm : input).focus();
    if (value !== null) input.select();
  });
}

export const confirmDialog = (options) => open({ ...options, value: null });
export const promptDialog = (options) => open({ ...options, value: options.value ?? "" });

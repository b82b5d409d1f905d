// The app's keyboard shortcuts: Esc stops the reply on screen, Ctrl+N (⌘N on a Mac) starts a
// new chat, Ctrl+K (⌘K) searches the conversations.

export function bindShortcuts({ onEscape, onNewChat, onSearch }) {
  document.addEventListener("keydown", (event) => {
    const command = event.ctrlKey || event.metaKey;
    const plain = command && !event.shiftKey && !event.altKey;
    if (event.key === "Escape") onEscape();
    else if (plain && event.key.toLowerCase() === "n") {
      event.preventDefault();
      onNewChat();
    } else if (plain && event.key.toLowerCase() === "k") {
      event.preventDefault();
      onSearch();
    }
  });
}

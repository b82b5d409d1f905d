// The conversation list, and the search box above it.

const SEARCH_DELAY_MS = 150;

export class Sidebar {
  constructor(list, empty, search, { onOpen, onSearch }) {
    this.list = list;
    this.empty = empty;
    this.search = search;
    this.onOpen = onOpen;
    let timer = null;
    search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => onSearch(search.value.trim()), SEARCH_DELAY_MS);
    });
    search.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && search.value) {
        event.stopPropagation();
        search.value = "";
        onSearch("");
      }
    });
  }

  get query() {
    return this.search.value.trim();
  }

  focusSearch() {
    this.search.focus();
    this.search.select();
  }

  render(conversations, activeId, busyIds) {
    this.list.replaceChildren();
    this.empty.hidden = conversations.length > 0;
    this.empty.textContent = this.query ? "No conversations match." : "No conversations yet.";
    for (const conversation of conversations) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "conversation";
      button.dataset.testid = "conversation-item";
      button.dataset.conversationId = conversation.id;
      const title = document.createElement("span");
      title.className = "conversation-title";
      title.textContent = conversation.title;
      button.append(title);
      button.title = conversation.title;
      if (conversation.snippet) {
        const snippet = document.createElement("span");
        snippet.className = "conversation-snippet";
        snippet.dataset.testid = "search-snippet";
        snippet.textContent = conversation.snippet;
        button.append(snippet);
      }
      if (conversation.id === activeId) button.setAttribute("aria-current", "true");
      if (busyIds.has(conversation.id)) button.classList.add("busy");
      button.addEventListener("click", () => this.onOpen(conversation.id));
      item.append(button);
      this.list.append(item);
    }
  }
}

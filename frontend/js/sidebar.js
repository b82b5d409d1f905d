// The conversation list, and the search box above it.

import { element } from "./dom.js";

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

  // Only the busy marks change: the items stay (rebuilding the list redrew the sidebar).
  markBusy(busyIds) {
    for (const button of this.list.querySelectorAll('[data-testid="conversation-item"]')) {
      button.classList.toggle("busy", busyIds.has(button.dataset.conversationId));
    }
  }

  render(conversations, activeId, busyIds) {
    this.list.replaceChildren();
    this.empty.hidden = conversations.length > 0;
    this.empty.textContent = this.query ? "No conversations match." : "No conversations yet.";
    for (const conversation of conversations) {
      const item = element("li");
      const button = element("button", {
        type: "button",
        class: "conversation",
        "data-testid": "conversation-item",
        "data-conversation-id": conversation.id,
      });
      button.append(element("span", { class: "conversation-title", text: conversation.title }));
      button.title = conversation.title;
      if (conversation.snippet) {
        button.append(element("span", {
          class: "conversation-snippet", "data-testid": "search-snippet", text: conversation.snippet,
        }));
      }
      if (conversation.id === activeId) button.setAttribute("aria-current", "true");
      if (busyIds.has(conversation.id)) button.classList.add("busy");
      button.addEventListener("click", () => this.onOpen(conversation.id));
      item.append(button);
      this.list.append(item);
    }
  }
}

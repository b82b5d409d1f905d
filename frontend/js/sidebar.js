// The conversation list.

export class Sidebar {
  constructor(list, empty, { onOpen }) {
    this.list = list;
    this.empty = empty;
    this.onOpen = onOpen;
  }

  render(conversations, activeId, busyIds) {
    this.list.replaceChildren();
    this.empty.hidden = conversations.length > 0;
    for (const conversation of conversations) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "conversation";
      button.dataset.testid = "conversation-item";
      button.dataset.conversationId = conversation.id;
      button.textContent = conversation.title;
      button.title = conversation.title;
      if (conversation.id === activeId) button.setAttribute("aria-current", "true");
      if (busyIds.has(conversation.id)) button.classList.add("busy");
      button.addEventListener("click", () => this.onOpen(conversation.id));
      item.append(button);
      this.list.append(item);
    }
  }
}

// The chat's header: the title of the conversation on screen, and the buttons that act on a
// saved conversation (shown only when there is one; a new chat is not saved yet).

import { byTestId } from "./dom.js";

const CONVERSATION_BUTTONS = [
  "rename-button", "delete-button", "export-markdown-button", "export-json-button", "chat-activity-button",
];

export class ChatHeader {
  constructor(root = document) {
    this.root = root;
    this.titleNode = byTestId(root, "chat-title");
  }

  // null: a new chat.
  show(conversation) {
    this.titleNode.textContent = conversation ? conversation.title : "New chat";
    for (const id of CONVERSATION_BUTTONS) byTestId(this.root, id).hidden = !conversation;
  }

  get title() {
    return this.titleNode.textContent;
  }
}

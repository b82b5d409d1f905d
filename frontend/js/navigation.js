// Which conversation the page shows: the one source of truth for "here".
//
// Opening a conversation takes a round trip, and start-up opens the latest one after the list
// has loaded. Every move therefore takes a ticket, and an answer that arrives after a later
// move is dropped: a slow start-up "open the latest" can never replace the new chat the user
// started meanwhile, and a message always goes to the conversation on screen.

export class Navigation {
  #activeId = null; // null: a new chat, not saved until its first message
  #moves = 0;

  get activeId() {
    return this.#activeId;
  }

  // A move that finishes later (opening a conversation, sending a new chat's first message):
  // it ends any earlier one still under way.
  begin() {
    const move = ++this.#moves;
    return { current: () => move === this.#moves };
  }

  // Finish a move (or give a new chat its id); false when the user has moved on since.
  arrive(ticket, conversationId) {
    if (!ticket.current()) return false;
    this.#activeId = conversationId;
    return true;
  }

  // A move that is done at once (a new chat); it ends any move still under way.
  go(conversationId) {
    this.arrive(this.begin(), conversationId);
  }
}

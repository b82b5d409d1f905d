// Starts the app: connects to the bridge, builds the views and the controllers that drive
// them, wires them to each other and to the event stream, then opens the latest conversation.

import { connect } from "./api.js";
import { ChatView } from "./chat.js";
import { Composer } from "./composer.js";
import { Conversations } from "./conversations.js";
import { byTestId, setLocale } from "./dom.js";
import { EventStream } from "./events.js";
import { ActivityDialog, FoldersDialog } from "./folders.js";
import { ChatHeader } from "./header.js";
import { LocalApiPane } from "./localapi.js";
import { interceptLinks } from "./markdown.js";
import { McpDialog } from "./mcp.js";
import { ModelEvents } from "./model-events.js";
import { ModelsPane } from "./models.js";
import { Navigation } from "./navigation.js";
import { Notice } from "./notice.js";
import { Replies } from "./replies.js";
import { ChatScreen } from "./screen.js";
import { SettingsPane } from "./settings.js";
import { bindShortcuts } from "./shortcuts.js";
import { StatusLine } from "./status.js";
import { TransferButtons } from "./transfer.js";
import { FirstRun } from "./welcome.js";

const $ = (testId) => byTestId(document, testId);

function build(api) {
  const desktop = api.transport === "desktop";
  const nav = new Navigation();
  const notice = new Notice($("notice"));
  const { guard } = notice;
  const header = new ChatHeader();
  const folders = new FoldersDialog(api, { desktop });
  const activity = new ActivityDialog(api);
  const mcp = new McpDialog(api);
  const models = new ModelsPane(api, { desktop });
  const localApi = new LocalApiPane(api);
  const settings = new SettingsPane(api, {
    onSaved: ({ reloading }) => notice.brief(
      reloading ? "Settings saved. The model is reloading to apply them." : "Settings saved.",
    ),
  });
  const firstRun = new FirstRun($("first-run"), api, {
    onModels: () => guard(() => models.open()),
    onFolders: () => guard(() => folders.open()),
    guard,
  });
  // The views call back into controllers built after them: each call comes after start-up.
  let chatScreen;
  let conversations;
  let modelEvents;
  const chat = new ChatView($("messages"), {
    onRetry: () => chatScreen.retry(nav.activeId),
    onContinueLocally: () => chatScreen.continueLocally(nav.activeId),
    onAnswer: (call, answer, reason) => chatScreen.answerToolCall(call, answer, reason),
    onRegenerate: () => chatScreen.regenerate(),
    onEdit: (messageId, text) => chatScreen.editAndResend(messageId, text),
  });
  const status = new StatusLine($("status"), { onRestart: () => modelEvents.restart() });
  const composer = new Composer({
    onSend: () => chatScreen.send(),
    onStop: () => chatScreen.stop(),
    onToolMode: (mode) => chatScreen.setToolMode(mode),
  });
  const replies = new Replies({ nav, chat, status }, {
    onBusy: () => {
      chatScreen.updateComposer();
      conversations.markBusy();
    },
    onUsage: (conversationId) => chatScreen.showUsage(conversationId),
    onDone: () => conversations.refresh(),
  });
  conversations = new Conversations({ api, nav, replies, header, notice }, {
    onNewChat: () => chatScreen.newChat(),
    onOpen: (conversationId) => chatScreen.open(conversationId),
  });
  chatScreen = new ChatScreen({ api, nav, chat, composer, header, replies, conversations, status, notice, firstRun });
  modelEvents = new ModelEvents({ api, status, models, firstRun, notice });
  new TransferButtons({ api, nav, notice }, {
    onImported: async (conversation) => {
      await conversations.refresh();
      await chatScreen.open(conversation.id);
    },
  });

  bindShortcuts({
    onEscape: () => { if (chatScreen.writing) chatScreen.stop(); },
    onNewChat: () => chatScreen.newChat(),
    onSearch: () => conversations.focusSearch(),
  });
  interceptLinks($("messages"), (url) => guard(() => api.call("open_link", { url })));
  $("new-chat-button").addEventListener("click", () => chatScreen.newChat());
  $("folders-button").addEventListener("click", () => guard(() => folders.open()));
  $("mcp-button").addEventListener("click", () => guard(() => mcp.open()));
  $("activity-button").addEventListener("click", () => guard(() => activity.open()));
  $("chat-activity-button").addEventListener("click", () => guard(() => activity.open(nav.activeId)));
  const openModels = () => guard(() => models.open());
  $("models-button").addEventListener("click", openModels);
  $("settings-open-models").addEventListener("click", () => {
    settings.close();
    openModels();
  });
  $("settings-button").addEventListener("click", () => guard(() => settings.open()));
  $("api-button").addEventListener("click", () => guard(() => localApi.open()));
  return { nav, notice, firstRun, status, replies, conversations, chatScreen, composer, modelEvents, localApi };
}

async function start(api) {
  const app = build(api);
  const [info, status] = await Promise.all([api.call("app_info"), api.call("get_status")]);
  setLocale(info.locale);
  if (info.notice) app.notice.warn(info.notice);
  if (info.show_welcome) app.firstRun.show(status.model?.label ?? "SmolLM2 135M Instruct");
  app.status.showModel(status);
  app.replies.markBusy(status.busy);
  const events = new EventStream(api, status.last_seq);
  app.modelEvents.listen(events);
  app.replies.listen(events);
  events.on("api_serving", (event) => app.status.showApi(event));
  events.on("api_request", ({ row }) => app.localApi.onRow(row));
  events.on("api_server", ({ status: apiStatus }) => app.localApi.onServer(apiStatus));
  events.start();
  // Taken before the list loads, so a New chat meanwhile cancels this "open the latest".
  const ticket = app.nav.begin();
  await app.conversations.refresh();
  if (app.conversations.latest && ticket.current()) await app.chatScreen.open(app.conversations.latest.id, ticket);
  app.composer.focus();
}

async function main() {
  await start(await connect());
  document.body.dataset.ready = "true";
}

main().catch((error) => {
  const notice = document.querySelector('[data-testid="notice"]');
  document.querySelector('[data-testid="notice-text"]').textContent = `LocalWork Hero could not start: ${error.message}`;
  notice.hidden = false;
});

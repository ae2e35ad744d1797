// The demo page's logic: a thin layer over the airwave client (served as /airwave.js).
// Everything shown comes from the client's events; text is always set with textContent, so a
// message can never inject markup into the page.
import { connect } from './airwave.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const MAX_ITEMS = 200;

// The local stack serves this page and the WebSocket API on the same port; stage `dev` by default.
$('url').value = params.get('ws') ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/dev`;
$('token').value = params.get('token') ?? '';
if (params.get('channel')) $('channel').value = params.get('channel');
// The service subscribes every connection to its default channel at $connect (the template's
// DefaultChannel), but the client only hands on messages of channels it joined itself: joining
// it here is what makes those messages show. `?default=` (empty) joins none.
const DEFAULT_CHANNEL = params.get('default') ?? 'default';

let client;

function log(text, kind = 'info') {
  const item = document.createElement('li');
  item.className = kind;
  item.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  $('log').prepend(item);
  while ($('log').children.length > MAX_ITEMS) $('log').lastChild.remove();
}

function setState(state) {
  $('state').textContent = state;
  $('state').dataset.state = state;
  const live = state !== 'closed';
  $('connect').disabled = live;
  $('disconnect').disabled = !live;
  for (const id of ['join', 'leave', 'send']) $(id).disabled = !live;
}

function channelList(channel) {
  let list = document.querySelector(`ol[data-channel="${CSS.escape(channel)}"]`);
  if (list) return list;
  const box = document.createElement('section');
  box.className = 'channel';
  box.dataset.channel = channel;
  const title = document.createElement('h3');
  title.textContent = channel;
  const count = document.createElement('small');
  count.textContent = '0 messages';
  title.append(count);
  list = document.createElement('ol');
  list.className = 'messages';
  list.dataset.channel = channel;
  list.setAttribute('aria-label', `messages in ${channel}`);
  // A presence channel's members (shown once its join ack lists them).
  const members = document.createElement('ul');
  members.className = 'members';
  members.dataset.channel = channel;
  members.hidden = true;
  members.setAttribute('aria-label', `members of ${channel}`);
  box.append(title, list, members);
  $('channels').append(box);
  $('no-channels').hidden = true;
  return list;
}

function show(channel, meta, body, kind = '') {
  const list = channelList(channel);
  const item = document.createElement('li');
  if (kind) item.className = kind;
  const label = document.createElement('span');
  label.className = 'meta';
  label.textContent = meta;
  item.append(label, body);
  list.append(item);
  while (list.children.length > MAX_ITEMS) list.firstChild.remove();
  list.scrollTop = list.scrollHeight;
  const count = list.querySelectorAll('li:not(.gap)').length;
  list.previousSibling.lastChild.textContent = `${count} ${count === 1 ? 'message' : 'messages'}`;
  return label;
}

/** Renders a presence channel's live member list (the client keeps it across reconnects). */
function showMembers(channel, members, self) {
  channelList(channel);
  const box = document.querySelector(`ul.members[data-channel="${CSS.escape(channel)}"]`);
  box.hidden = false;
  box.replaceChildren(
    ...members.map((member) => {
      const item = document.createElement('li');
      item.textContent = `${member.info ?? member.id}${member.id === self ? ' (you)' : ''}`;
      item.title = member.id;
      return item;
    }),
  );
}

const text = (message) => (typeof message === 'string' ? message : JSON.stringify(message));

function start() {
  client?.close();
  const token = $('token').value.trim();
  client = connect($('url').value.trim(), token ? { token } : {});
  client.on('state', ({ state }) => {
    setState(state);
    log(`state: ${state}`);
  });
  client.on('message', ({ channel, message, seq }) => show(channel, `#${seq ?? '?'}`, text(message)));
  client.on('joined', ({ channel, seq }) => {
    channelList(channel);
    log(`joined ${channel}${seq === undefined ? '' : ` (latest #${seq})`}`);
  });
  client.on('left', ({ channel }) => log(`left ${channel}`));
  client.on('presence', ({ channel, event, member, members, self }) => {
    showMembers(channel, members, self);
    if (member) log(`${member.info ?? member.id} ${event === 'join' ? 'joined' : 'left'} ${channel}`);
  });
  client.on('sent', ({ channel, seq }) => log(`sent to ${channel}${seq === undefined ? '' : ` as #${seq}`}`));
  client.on('gap', ({ channel, from, to }) => show(channel, 'gap', `messages #${from}-#${to} are no longer kept`, 'gap'));
  client.on('error', ({ code, message, channel }) => log(`error ${code}${channel ? ` on ${channel}` : ''}: ${message}`, 'error'));
  setState(client.state);
  if (DEFAULT_CHANNEL) joinChannel(DEFAULT_CHANNEL);
}

/** Joins `channel` and gives it a message list; a refused join (forbidden, too many channels) is logged as an `error` event and its list removed. */
function joinChannel(channel) {
  client?.join(channel).catch(() => document.querySelector(`section[data-channel="${CSS.escape(channel)}"]`)?.remove());
  channelList(channel);
}

$('connect-form').addEventListener('submit', (event) => {
  event.preventDefault();
  try {
    start();
  } catch (error) {
    log(`cannot connect: ${error.message}`, 'error');
  }
});

$('disconnect').addEventListener('click', () => {
  client?.close();
  client = undefined;
  setState('closed');
});

$('channel-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const channel = $('channel').value.trim();
  try {
    joinChannel(channel);
  } catch (error) {
    log(error.message, 'error');
  }
});

$('leave').addEventListener('click', () => {
  const channel = $('channel').value.trim();
  try {
    client?.leave(channel);
    document.querySelector(`section[data-channel="${CSS.escape(channel)}"]`)?.remove();
    $('no-channels').hidden = $('channels').querySelector('section') !== null;
  } catch (error) {
    log(error.message, 'error');
  }
});

$('send-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const channel = $('channel').value.trim();
  const raw = $('message').value;
  let message = raw;
  try {
    message = JSON.parse(raw);
  } catch {
    // Not JSON: sent as a plain string.
  }
  if (!client) return;
  try {
    const sent = client.send(channel, message);
    // The service sends no copy back to the sender (not even in a replay): show it here, marked
    // as ours, and label it with its seq once this very send's receipt comes.
    const label = show(channel, 'you', text(message), 'own');
    sent.then(
      ({ seq }) => {
        if (seq !== undefined) label.textContent = `#${seq} you`;
      },
      ({ code }) => {
        label.textContent = `you (${code})`;
      },
    );
  } catch (error) {
    log(error.message, 'error');
  }
});

setState('closed');

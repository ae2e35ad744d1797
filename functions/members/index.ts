/** `members`: {"action":"members","channel":C}. A fresh member list of a presence channel (shared/presence.ts). */
import { messageRoute } from '../../shared/handler.js';
import { membersRoute } from '../../shared/presence.js';

export const handler = messageRoute(membersRoute);

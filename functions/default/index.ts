/** `$default`: frames that are not JSON objects or name no route. Always an error frame. */
import { UnknownActionError } from '../../shared/errors.js';
import { messageRoute } from '../../shared/handler.js';

export const handler = messageRoute(async (ctx) => {
  throw new UnknownActionError(ctx.body().action);
});

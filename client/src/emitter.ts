/**
 * A typed event emitter that never lets a listener's exception escape into the client's own
 * control flow (a throw inside a socket callback would otherwise be lost, or kill a reconnect):
 * it becomes an `error` event with code `listener_error` instead.
 */
import type { ClientEvents, EventName, Listener } from './types.js';

export class Emitter {
  private readonly listeners = new Map<EventName, Set<Listener<EventName>>>();

  /** Adds a listener; returns the function that removes it. */
  on<E extends EventName>(event: E, listener: Listener<E>): () => void {
    const set = this.listeners.get(event) ?? new Set();
    this.listeners.set(event, set);
    const entry = listener as Listener<EventName>;
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  }

  /** Calls every listener of `event`; a throwing listener does not stop the others. */
  emit<E extends EventName>(event: E, payload: ClientEvents[E]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<E>)(payload);
      } catch (cause) {
        // An error listener that throws is not reported again: that could loop forever.
        if (event !== 'error') this.emit('error', { code: 'listener_error', message: `a "${event}" listener threw`, cause });
      }
    }
  }

  /** Removes every listener (after `close()`). */
  clear(): void {
    this.listeners.clear();
  }
}

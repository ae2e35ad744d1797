/**
 * The connections API Gateway holds: connection id → socket (or a virtual connection for
 * benchmarks, which counts deliveries instead of sending them), with what the @connections GET
 * reports about it. Shared by the WebSocket API (which adds and removes) and the @connections API.
 */
import type { WebSocket } from 'ws';
import type { ConnectionInfo } from './websocket-events.js';

/** One open connection. */
export interface Connection extends ConnectionInfo {
  /** The client's socket; absent for a virtual connection. */
  socket?: WebSocket;
  /** Deliveries counted for a virtual connection. */
  virtual?: { deliveries: number; bytes: number };
  /** `$connect` ran for it, so `$disconnect` runs when it goes. */
  connected: boolean;
  lastActiveAt: number;
  /** Set once it is gone; later closes are no-ops. */
  gone: boolean;
  idleTimer?: NodeJS.Timeout;
  maxTimer?: NodeJS.Timeout;
}

/** The live connections of the API, real and virtual. */
export class ConnectionRegistry {
  private readonly byId = new Map<string, Connection>();
  private realCount = 0;

  add(connection: Connection): void {
    this.byId.set(connection.connectionId, connection);
    if (!connection.virtual) this.realCount++;
  }

  get(connectionId: string): Connection | undefined {
    return this.byId.get(connectionId);
  }

  /** Removes a connection; true if it was there. */
  delete(connection: Connection): boolean {
    if (this.byId.get(connection.connectionId) !== connection) return false;
    this.byId.delete(connection.connectionId);
    if (!connection.virtual) this.realCount--;
    return true;
  }

  /** Connections with a socket. */
  get real(): number {
    return this.realCount;
  }

  /** Virtual (socket-less) connections. */
  get virtual(): number {
    return this.byId.size - this.realCount;
  }

  all(): Connection[] {
    return [...this.byId.values()];
  }
}

import type { ErrorCode, WireError } from './protocol';

/** An error with a protocol error code; crosses the IPC boundary as a WireError. */
export class WorkerError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WorkerError';
  }

  toWire(): WireError {
    return { code: this.code, message: this.message };
  }
}

export function toWireError(e: unknown): WireError {
  if (e instanceof WorkerError) return e.toWire();
  const message = e instanceof Error ? e.message : String(e);
  return { code: 'INTERNAL', message };
}

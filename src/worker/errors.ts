import type { ErrorCode, WireError } from '../shared/protocol';

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

/** The longest error message that crosses IPC: it may end up in a notification, and a model folder controls parts of it. */
export const MAX_ERROR_MESSAGE = 500;

/** `text` cut to `max` characters, with an ellipsis when cut. */
export function clip(text: string, max = MAX_ERROR_MESSAGE): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function toWireError(e: unknown): WireError {
  const wire: WireError = e instanceof WorkerError ? e.toWire() : { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
  return { code: wire.code, message: clip(wire.message) };
}

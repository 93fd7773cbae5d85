/**
 * Safe extra fields for a request's one log line (`http/middleware/request-log.ts`), set by whoever
 * handles the request — the authorization server, which sits behind Express and cannot reach the
 * logger's line otherwise. Kept on the response object, so they die with the request.
 */
import type { ServerResponse } from 'node:http';

const NOTES = Symbol('request-log notes');
type Noted = ServerResponse & { [NOTES]?: Record<string, string> };

/** Adds fields to this request's log line. Never pass secrets: values are logged as they are. */
export function noteForRequestLog(res: ServerResponse, fields: Readonly<Record<string, string>>): void {
  const noted = res as Noted;
  noted[NOTES] = { ...noted[NOTES], ...fields };
}

export function requestLogNotes(res: ServerResponse): Readonly<Record<string, string>> | undefined {
  return (res as Noted)[NOTES];
}

/**
 * Tool services before identity and the authorization server are wired in: public tools do not need
 * them, and a tool that does gets a clear error instead of a crash.
 */
import type { ToolServices } from './services.ts';

function unavailable(): never {
  throw new Error('identity services are not configured');
}

export const unavailableServices: ToolServices = {
  demoUsers: () => [],
  findUser: unavailable,
  quickLogin: unavailable,
  tokenUser: unavailable,
  listGrants: unavailable,
  revokeGrants: unavailable,
  userStats: unavailable,
};

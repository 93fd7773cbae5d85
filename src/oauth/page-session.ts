/**
 * Who is signed in on our own pages (the account page and the admin console): the account page's
 * own short cookie (set by signing in there), or else the authorization server's browser session
 * (someone who just approved an app is already signed in). One definition, so the console can never
 * be looser than the account page about who someone is.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PageDeps } from './interactions/context.ts';
import { pageCookies, readCookie } from './page-cookies.ts';

export interface SignedIn {
  readonly accountId: string;
  /** What CSRF tokens on these pages are bound to: this sign-in, never a value the client chose. */
  readonly binding: string;
}

export type SignedInLookup = (req: IncomingMessage, res: ServerResponse) => Promise<SignedIn | undefined>;

export function signedInLookup(
  deps: Pick<PageDeps, 'config' | 'provider' | 'identity' | 'secrets'>,
): SignedInLookup {
  const { provider, identity, secrets } = deps;
  const accountCookie = pageCookies(deps.config).account;
  return async (req, res) => {
    const own = secrets.unsign(readCookie(req, accountCookie));
    if (own) {
      // Bound to the credentials it was issued under: a new password, role or disabling ends it
      // (and a removed user has no stamp at all).
      const [accountId = '', exp = '0', stamp = ''] = own.split('|');
      if (Number(exp) > Date.now() / 1000 && stamp === (await identity.credentialStamp(accountId))) {
        return { accountId, binding: `own:${own}` };
      }
    }
    const session = await provider.Session.get(provider.createContext(req, res));
    const sessionUser = session.accountId ? await identity.findById(session.accountId) : undefined;
    if (sessionUser && sessionUser.disabledAt === undefined) {
      return { accountId: sessionUser.id, binding: `sso:${session.uid}` };
    }
    return undefined;
  };
}

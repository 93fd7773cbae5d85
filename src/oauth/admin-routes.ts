/**
 * The admin console (/admin), for users of role admin: users (add, change role, disable, reset the
 * password), apps (kind, last use, remove), grants per user and app (revoke), signing keys (rotate)
 * and the audit log with filters. First-party pages on the account page's sign-in
 * (`page-session.ts`), with the same CSP and headers (`page-http.ts`), CSRF tokens bound to the
 * sign-in, and English and Japanese.
 *
 * Who may do what is decided on every request from storage: the signed-in user's current role (a
 * demoted or disabled admin loses the console on their next click). Every action goes through the
 * same services as the CLI — identity's lifecycle, the grant service, `operator-queries.ts`, key
 * rotation — which record their own audit events with this admin as the actor; the console adds one
 * `admin.action` record per request with its outcome, refused ones included.
 *
 * Answers: not signed in → 303 to the account page's sign-in (which comes back here); signed in
 * without the admin role → 403; a bad or missing CSRF token → 403; a refused action → 400 (404 for
 * something that does not exist) with the section and a plain-words problem; done → 303 to the
 * section with a fixed notice word.
 */
import express, { type Request, type Response, Router } from 'express';
import type { AuditActor } from '../audit/events.ts';
import { AUDIT_EVENT_TYPES } from '../audit/events.ts';
import { AuditFilterError, auditQueryFrom } from '../audit/query.ts';
import type { User } from '../identity/users.ts';
import { IdentityError, MIN_PASSWORD_LENGTH } from '../identity/validation.ts';
import {
  ADMIN_NOTICES,
  ADMIN_SECTIONS,
  ADMIN_WORDS,
  type AdminNotice,
  type AdminProblem,
  type AdminSection,
} from '../ui/admin-words.ts';
import { type AdminClientRow, type AdminView, adminPage } from '../ui/pages/admin.ts';
import { errorPage } from '../ui/pages/error.ts';
import { BUILT_IN_CLIENTS } from './clients.ts';
import { checkCsrf, langOf, type PageDeps, switchHref } from './interactions/context.ts';
import { effectiveOverlapSeconds, rotateSigningKeys } from './keys.ts';
import { listClients, removeClient } from './operator-queries.ts';
import { sendPage } from './page-http.ts';
import { signedInLookup } from './page-session.ts';
import { ACCOUNT_PATH, ADMIN_PATH } from './routes.ts';

const ADMIN_CSRF = 'admin';
/** The most audit records one page shows (the CLI exports the rest). */
const AUDIT_PAGE_SIZE = 200;
const form = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 20 });

interface Admin {
  readonly user: User;
  readonly binding: string;
  readonly actor: AuditActor;
}

/** A refusal an action ends in: the problem word and its status. */
class Refused extends Error {
  readonly problem: AdminProblem;
  readonly status: number;
  constructor(problem: AdminProblem, status = 400) {
    super(problem);
    this.problem = problem;
    this.status = status;
  }
}

export function adminRoutes(deps: PageDeps): Router {
  const { identity, storage, grants, secrets, config, audit } = deps;
  const signedIn = signedInLookup(deps);
  const router = Router();

  /** The signed-in admin, or the answer for anyone else (sign-in redirect or 403). */
  async function requireAdmin(req: Request, res: Response): Promise<Admin | undefined> {
    const who = await signedIn(req, res);
    if (!who) {
      res.redirect(303, `${ACCOUNT_PATH}?next=admin`);
      return undefined;
    }
    const user = await identity.findById(who.accountId);
    if (user?.role !== 'admin' || user.disabledAt !== undefined) {
      const lang = langOf(req);
      const w = ADMIN_WORDS[lang];
      res.setHeader('Cache-Control', 'no-store');
      sendPage(
        res,
        403,
        errorPage({ lang, switchHref: switchHref(req, lang), code: 'access_denied', detail: w.notAdmin }),
        { lang },
      );
      return undefined;
    }
    return { user, binding: who.binding, actor: { kind: 'admin', id: user.id, name: user.username } };
  }

  async function render(
    req: Request,
    res: Response,
    admin: Admin,
    sectionName: AdminSection,
    status = 200,
    problem?: AdminProblem,
  ): Promise<void> {
    const lang = langOf(req);
    const notice = typeof req.query.done === 'string' ? asNotice(req.query.done) : undefined;
    let view: AdminView;
    try {
      view = await viewOf(sectionName, req);
    } catch (error) {
      if (!(error instanceof AuditFilterError)) throw error;
      status = 400;
      problem = 'bad_filter';
      view = await viewOf(sectionName, req, true);
    }
    const document = adminPage(
      {
        lang,
        switchHref: switchHref(req, lang),
        csrf: secrets.csrfToken(ADMIN_CSRF, admin.binding),
        admin: { id: admin.user.id, name: admin.user.name, username: admin.user.username },
        basePath: ADMIN_PATH,
        signOutAction: `${ACCOUNT_PATH}/logout`,
        notice: problem ? undefined : notice,
        problem: problem ? ADMIN_WORDS[lang].problems[problem] : undefined,
      },
      view,
    );
    sendPage(res, status, document, { lang });
  }

  async function viewOf(sectionName: AdminSection, req: Request, ignoreFilter = false): Promise<AdminView> {
    const q = (name: string) =>
      !ignoreFilter && typeof req.query[name] === 'string' ? (req.query[name] as string) : '';
    switch (sectionName) {
      case 'users':
        return {
          section: 'users',
          minPasswordLength: MIN_PASSWORD_LENGTH,
          users: (await identity.listUsers()).map((u) => ({
            id: u.id,
            username: u.username,
            name: u.name,
            email: u.email,
            role: u.role,
            createdAt: u.createdAt,
            disabled: u.disabledAt !== undefined,
          })),
        };
      case 'clients':
        return { section: 'clients', clients: await clientRows() };
      case 'grants': {
        const user = q('user').slice(0, 200);
        const client = q('client').slice(0, 200);
        const accountId = user ? ((await identity.findByUsername(user))?.id ?? user) : undefined;
        const list = await grants.listGrants({
          ...(accountId ? { accountId } : {}),
          ...(client ? { clientId: client } : {}),
        });
        const names = await usernames();
        const rows = [];
        for (const g of list) {
          const stored = await storage.find('Client', g.clientId);
          rows.push({
            grantId: g.grantId,
            userId: g.accountId,
            username: names.get(g.accountId),
            clientId: g.clientId,
            clientName:
              typeof stored?.client_name === 'string' ? stored.client_name : builtInName(g.clientId),
            scopes: g.scopes,
            createdAt: g.createdAt,
            lastUsedAt: g.lastUsedAt,
            expiresAt: g.expiresAt,
          });
        }
        return { section: 'grants', grants: rows, filter: { user, client } };
      }
      case 'keys':
        return {
          section: 'keys',
          keys: (await storage.listKeys()).map((k) => ({
            kid: k.kid,
            alg: typeof k.privateJwk.alg === 'string' ? k.privateJwk.alg : undefined,
            active: k.rotatedAt === undefined,
            createdAt: k.createdAt,
            rotatedAt: k.rotatedAt,
          })),
        };
      case 'audit': {
        const filter = { user: q('user'), client: q('client'), type: q('type'), since: q('since') };
        const query = await auditQueryFrom(
          { ...filter, limit: AUDIT_PAGE_SIZE },
          async (name) => (await identity.findByUsername(name))?.id,
        );
        const names = await usernames();
        const records = (await storage.listAudit(query)).map((r) => ({
          at: r.at,
          type: r.type,
          outcome: r.outcome,
          actor: [
            r.actor.kind,
            r.actor.name ?? (r.actor.id ? (names.get(r.actor.id) ?? r.actor.id) : undefined),
          ]
            .filter(Boolean)
            .join(' · '),
          user: r.userId ? (names.get(r.userId) ?? r.userId) : undefined,
          clientId: r.clientId,
          ip: r.ip,
          userAgent: r.userAgent,
          details: Object.keys(r.details).length ? JSON.stringify(r.details) : '',
        }));
        return {
          section: 'audit',
          records,
          types: AUDIT_EVENT_TYPES,
          filter: { ...filter, type: filter.type.slice(0, 64), since: filter.since.slice(0, 40) },
        };
      }
    }
  }

  async function usernames(): Promise<Map<string, string>> {
    return new Map((await identity.listUsers()).map((u) => [u.id, u.username]));
  }

  /** Stored registrations, plus clients known only from their grants (CIMD, built-in). */
  async function clientRows(): Promise<AdminClientRow[]> {
    const grantCounts = new Map<string, number>();
    for (const g of await grants.listGrants())
      grantCounts.set(g.clientId, (grantCounts.get(g.clientId) ?? 0) + 1);
    const rows: AdminClientRow[] = (await listClients(storage)).map((c) => ({
      clientId: c.clientId,
      name: c.clientName,
      kind: c.kind,
      createdAt: c.createdAt,
      lastUsedAt: c.lastUsedAt,
      expiresAt: c.expiresAt,
      grants: grantCounts.get(c.clientId) ?? 0,
      removable: true,
    }));
    const stored = new Set(rows.map((r) => r.clientId));
    for (const [clientId, count] of grantCounts) {
      if (stored.has(clientId)) continue;
      const builtIn = builtInName(clientId) !== undefined;
      rows.push({
        clientId,
        name: builtInName(clientId),
        kind: builtIn ? 'built_in' : 'cimd',
        createdAt: undefined,
        lastUsedAt: undefined,
        expiresAt: undefined,
        grants: count,
        removable: false,
      });
    }
    return rows.sort((a, b) => (b.lastUsedAt ?? b.createdAt ?? 0) - (a.lastUsedAt ?? a.createdAt ?? 0));
  }

  router.get('/', async (req, res) => {
    if (await requireAdmin(req, res)) res.redirect(303, `${ADMIN_PATH}/users`);
  });

  for (const sectionName of ADMIN_SECTIONS) {
    router.get(`/${sectionName}`, async (req, res) => {
      const admin = await requireAdmin(req, res);
      if (admin) await render(req, res, admin, sectionName);
    });
  }

  /**
   * One console action: admin check, CSRF, then `run` (which returns the notice to show); a
   * `Refused` re-renders the section with its problem. Each request leaves an `admin.action` record.
   */
  const post = (
    path: string,
    sectionName: AdminSection,
    run: (body: Record<string, string>, admin: Admin) => Promise<AdminNotice>,
  ) => {
    router.post(path, form, async (req, res) => {
      const admin = await requireAdmin(req, res);
      if (!admin) return;
      if (!checkCsrf(deps, req, res, ADMIN_CSRF, admin.binding)) {
        await record(admin, path, 'failure', { reason: 'csrf' });
        return;
      }
      const body = strings(req.body);
      const target = body.username ?? body.client_id ?? body.grant_id;
      try {
        const notice = await run(body, admin);
        await record(admin, path, 'success', { target });
        res.redirect(303, `${ADMIN_PATH}/${sectionName}?done=${notice}`);
      } catch (error) {
        const refused = refusalOf(error);
        if (!refused) throw error;
        await record(admin, path, 'failure', { target, reason: refused.problem });
        await render(req, res, admin, sectionName, refused.status, refused.problem);
      }
    });
  };

  const record = (
    admin: Admin,
    path: string,
    outcome: 'success' | 'failure',
    details: Record<string, string | undefined>,
  ) =>
    audit.record({
      type: 'admin.action',
      outcome,
      actor: admin.actor,
      details: { section: path.split('/')[1], action: path.slice(1), ...details },
    });

  post('/users/add', 'users', async (b, admin) => {
    await identity.addUser(
      {
        username: b.username ?? '',
        password: b.password ?? '',
        name: b.name || undefined,
        email: b.email ?? '',
        role: b.role === undefined ? 'user' : roleOf(b.role),
      },
      { by: admin.actor },
    );
    return 'user_added';
  });
  post('/users/role', 'users', async (b, admin) => {
    notYourself(b.username, admin);
    await identity.setRole(b.username ?? '', roleOf(b.role), { by: admin.actor });
    return 'role_changed';
  });
  post('/users/disable', 'users', async (b, admin) => {
    notYourself(b.username, admin);
    const disabled = b.disabled !== '0';
    await identity.setDisabled(b.username ?? '', disabled, { by: admin.actor });
    return disabled ? 'user_disabled' : 'user_enabled';
  });
  post('/users/password', 'users', async (b, admin) => {
    await identity.setPassword(b.username ?? '', b.password ?? '', { by: admin.actor });
    return 'password_reset';
  });
  post('/clients/remove', 'clients', async (b, admin) => {
    const removed = await removeClient(storage, b.client_id ?? '', audit.as(admin.actor), 'admin_console');
    if (removed === undefined) throw new Refused('no_such_client', 404);
    return 'client_removed';
  });
  post('/grants/revoke', 'grants', async (b, admin) => {
    const revoked = await grants.revokeGrant(b.grant_id ?? '', { actor: admin.actor, by: 'admin_console' });
    if (!revoked) throw new Refused('no_such_grant', 404);
    return 'grant_revoked';
  });
  post('/keys/rotate', 'keys', async (_b, admin) => {
    // Other instances, and this one, take the new key up from the invalidation bus (server.ts).
    await rotateSigningKeys(storage, effectiveOverlapSeconds(config), audit.as(admin.actor));
    return 'key_rotated';
  });

  return router;
}

/** Form fields as strings (the form parser gives strings; anything else is dropped). */
function strings(body: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (body && typeof body === 'object') {
    for (const [k, v] of Object.entries(body)) if (typeof v === 'string') out[k] = v;
  }
  return out;
}

function roleOf(value: string | undefined): 'admin' | 'user' {
  if (value === 'admin' || value === 'user') return value;
  throw new Refused('invalid_role');
}

/** An admin may not lock themselves out: role and disabling are for another admin (or the CLI). */
function notYourself(username: string | undefined, admin: Admin): void {
  if ((username ?? '').trim().toLowerCase() === admin.user.username) throw new Refused('not_on_yourself');
}

function refusalOf(error: unknown): Refused | undefined {
  if (error instanceof Refused) return error;
  if (error instanceof IdentityError) return new Refused(error.code, error.code === 'not_found' ? 404 : 400);
  return undefined;
}

function asNotice(value: string): AdminNotice | undefined {
  return (ADMIN_NOTICES as readonly string[]).includes(value) ? (value as AdminNotice) : undefined;
}

function builtInName(clientId: string): string | undefined {
  return BUILT_IN_CLIENTS.find((c) => c.client_id === clientId)?.client_name as string | undefined;
}

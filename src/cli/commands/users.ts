/** `sekisho users add|list|remove|passwd|role`. */
import type { User } from '../../identity/users.ts';
import { requireEmail, requireName, requireRole, requireUsername } from '../../identity/validation.ts';
import type { Command, CommandContext } from '../context.ts';
import { CliError, UsageError } from '../errors.ts';
import { printJson, printTable, when } from '../output.ts';
import { readNewPassword } from '../password-input.ts';

const PASSWORD_OPTIONS = {
  'password-stdin': { type: 'boolean' },
  password: { type: 'string' },
} as const;

function passwordFrom(ctx: CommandContext) {
  return readNewPassword(
    {
      stdin: ctx.options['password-stdin'] === true,
      inline: typeof ctx.options.password === 'string' ? ctx.options.password : undefined,
    },
    ctx.io,
  );
}

function str(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.options[name];
  return typeof v === 'string' ? v : undefined;
}

export const usersAdd: Command = {
  name: 'users add',
  usage:
    'users add <username> [--name <display name>] [--email <email>] [--role admin|user] [--password-stdin]',
  summary: 'Create a local account (password from stdin or a prompt)',
  args: ['username'],
  options: {
    name: { type: 'string' },
    email: { type: 'string' },
    role: { type: 'string' },
    ...PASSWORD_OPTIONS,
  },
  mayCreateDatabase: true,
  async run(ctx) {
    // Check everything but the password first: nobody should type a password for a doomed command.
    const username = requireUsername(ctx.positionals[0]!);
    const role = requireRole(str(ctx, 'role') ?? 'user');
    const name = requireName(str(ctx, 'name') ?? username);
    const email = requireEmail(str(ctx, 'email') ?? '');
    if (await ctx.identity.findByUsername(username)) throw new CliError(`user ${username} already exists`);
    const password = await passwordFrom(ctx);
    const user = await ctx.identity.addUser({ username, password, name, email, role });
    if (ctx.options.json) printJson(ctx.io, user);
    else ctx.io.out(`added ${user.username} (${user.role}) id ${user.id}`);
  },
};

export const usersList: Command = {
  name: 'users list',
  usage: 'users list [--json]',
  summary: 'List accounts',
  args: [],
  options: {},
  mayCreateDatabase: false,
  async run(ctx) {
    const users = await ctx.identity.listUsers();
    if (ctx.options.json) return printJson(ctx.io, users);
    printTable(
      ctx.io,
      ['USERNAME', 'ROLE', 'NAME', 'EMAIL', 'ID', 'CREATED'],
      users.map((u: User) => [u.username, u.role, u.name, u.email || '-', u.id, when(u.createdAt)]),
      'no users',
    );
  },
};

export const usersRemove: Command = {
  name: 'users remove',
  usage: 'users remove <username>',
  summary: 'Delete an account and revoke everything issued to it',
  args: ['username'],
  options: {},
  mayCreateDatabase: false,
  async run(ctx) {
    const user = await ctx.identity.removeUser(ctx.positionals[0]!);
    ctx.io.out(`removed ${user.username}; its grants, tokens and sessions are revoked`);
  },
};

export const usersPasswd: Command = {
  name: 'users passwd',
  usage: 'users passwd <username> [--password-stdin]',
  summary: 'Set a new password',
  args: ['username'],
  options: PASSWORD_OPTIONS,
  mayCreateDatabase: false,
  async run(ctx) {
    const username = ctx.positionals[0]!;
    if (!(await ctx.identity.findByUsername(username))) {
      throw new CliError(`no such user: ${username.trim().toLowerCase()}`);
    }
    const user = await ctx.identity.setPassword(username, await passwordFrom(ctx));
    ctx.io.out(`password changed for ${user.username}; their sessions are ended and grants revoked`);
  },
};

export const usersRole: Command = {
  name: 'users role',
  usage: 'users role <username> <admin|user>',
  summary: 'Change an account’s role',
  args: ['username', 'role'],
  options: {},
  mayCreateDatabase: false,
  async run(ctx) {
    const [username, role] = ctx.positionals as [string, string];
    const user = await ctx.identity.setRole(username, requireRole(role));
    ctx.io.out(`${user.username} is now ${user.role}`);
  },
};

/** `users disable|enable`: the console's switch, for scripts (disabling ends sign-ins and revokes grants). */
function disabledSwitch(disabled: boolean): Command {
  const word = disabled ? 'disable' : 'enable';
  return {
    name: `users ${word}`,
    usage: `users ${word} <username>`,
    summary: disabled
      ? 'Disable an account: no sign-in, its sessions end and its grants are revoked'
      : 'Enable a disabled account again',
    args: ['username'],
    options: {},
    mayCreateDatabase: false,
    async run(ctx) {
      const user = await ctx.identity.setDisabled(ctx.positionals[0]!, disabled);
      ctx.io.out(
        disabled
          ? `${user.username} is disabled; their sessions are ended and grants revoked`
          : `${user.username} is enabled`,
      );
    },
  };
}

export const usersDisable = disabledSwitch(true);
export const usersEnable = disabledSwitch(false);

/**
 * Links for enterprise identities (ID-JAG, docs/grants.md): which local user an IdP's subject acts
 * as. The pair (issuer, subject) is exact — the IdP's `iss` and its `sub` for the person.
 */
export const usersLink: Command = {
  name: 'users link',
  needsAuthorizationServer: true,
  usage: 'users link <username> --issuer <IdP issuer URL> --subject <sub at that IdP>',
  summary: 'Let an enterprise identity (IdP issuer + subject) act as this account (ID-JAG)',
  args: ['username'],
  options: { issuer: { type: 'string' }, subject: { type: 'string' } },
  mayCreateDatabase: false,
  async run(ctx) {
    const { issuer, subject } = linkKey(ctx);
    const user = await ctx.identity.findByUsername(ctx.positionals[0]!);
    if (!user) throw new CliError(`no such user: ${ctx.positionals[0]!.trim().toLowerCase()}`);
    const existing = await ctx.storage.findExternalIdentity(issuer, subject);
    if (existing && existing.userId !== user.id) {
      throw new CliError('that enterprise identity is linked to another account; unlink it first');
    }
    // Linking again keeps what is stored with the link (an upstream sign-in's claims its rules read).
    await ctx.storage.linkExternalIdentity({ issuer, subject, userId: user.id, claims: existing?.claims });
    ctx.io.out(`${issuer} ${subject} now acts as ${user.username}`);
  },
};

export const usersUnlink: Command = {
  name: 'users unlink',
  needsAuthorizationServer: true,
  usage: 'users unlink --issuer <IdP issuer URL> --subject <sub at that IdP>',
  summary: 'Remove an enterprise identity link (its existing tokens live out their short lifetime)',
  args: [],
  options: { issuer: { type: 'string' }, subject: { type: 'string' } },
  mayCreateDatabase: false,
  async run(ctx) {
    const { issuer, subject } = linkKey(ctx);
    if (!(await ctx.storage.unlinkExternalIdentity(issuer, subject))) {
      throw new CliError('no such link');
    }
    ctx.io.out(`unlinked ${issuer} ${subject}`);
  },
};

export const usersLinks: Command = {
  name: 'users links',
  usage: 'users links <username> [--json]',
  summary: 'List the enterprise identities linked to an account',
  args: ['username'],
  options: {},
  mayCreateDatabase: false,
  async run(ctx) {
    const user = await ctx.identity.findByUsername(ctx.positionals[0]!);
    if (!user) throw new CliError(`no such user: ${ctx.positionals[0]!.trim().toLowerCase()}`);
    const links = (await ctx.storage.listExternalIdentities(user.id)).map((l) => ({
      issuer: l.issuer,
      subject: l.subject,
      createdAt: l.createdAt,
      lastLoginAt: l.lastLoginAt,
    }));
    if (ctx.options.json) return printJson(ctx.io, links);
    printTable(
      ctx.io,
      ['ISSUER', 'SUBJECT', 'LINKED', 'LAST USED'],
      links.map((l) => [l.issuer, l.subject, when(l.createdAt), when(l.lastLoginAt)]),
      'no linked identities',
    );
  },
};

function linkKey(ctx: CommandContext): { issuer: string; subject: string } {
  const issuer = str(ctx, 'issuer');
  const subject = str(ctx, 'subject');
  if (!issuer || !subject) throw new UsageError('--issuer and --subject are both required');
  if (!URL.parse(issuer))
    throw new UsageError('--issuer must be the IdP’s issuer URL, exactly as its `iss` says');
  if (subject.length > 512) throw new UsageError('--subject is too long');
  return { issuer, subject };
}

/**
 * The home page (`/`): what this server is, where its endpoints are, how to connect each client, and
 * a link to the account page — the seed's "Server info", for a person in a browser. The same facts go
 * out as JSON to `Accept: application/json` (http/home.ts); this module only renders them.
 */
import { html } from '../html.ts';
import { type Lang, otherLanguage } from '../i18n.ts';
import { languageHref, page } from '../layout.ts';

export interface HomeInfo {
  readonly name: string;
  readonly version: string;
  readonly mcp: { readonly url: string; readonly transport: string };
  readonly authorization: {
    readonly issuer: string;
    readonly metadata: Readonly<Record<string, string>>;
    readonly endpoints: Readonly<Record<string, string>>;
  };
  /** The account page; undefined when another server signs users in (resource-server-only mode). */
  readonly account: string | undefined;
  readonly mode: { readonly demo: boolean; readonly anonymous: boolean };
  readonly tools: readonly {
    readonly name: string;
    readonly title: string;
    readonly access: 'public' | 'signed-in' | 'admin';
  }[];
  readonly clients: readonly {
    readonly id: string;
    readonly name: string;
    readonly command?: string;
    readonly file?: { readonly path: string; readonly content: string };
    readonly steps: readonly string[];
  }[];
}

const WORDS = {
  en: {
    title: 'Remote MCP server',
    lead: 'Sekisho is an MCP server with its own OAuth 2.1 authorization server. Point your MCP client at the address below; it finds everything else itself and opens this site for you to sign in when a tool needs your account.',
    leadExternal: (issuer: string) =>
      `Sekisho is an MCP server. Point your MCP client at the address below; it finds everything else itself and has you sign in at ${issuer} when a tool needs your account.`,
    mcpUrl: 'MCP address',
    mode: (demo: boolean, anonymous: boolean) =>
      `${demo ? 'Demo mode (public demo accounts).' : ''} ${anonymous ? 'Public tools work without signing in; the others ask you to sign in.' : 'Every request needs sign-in.'}`.trim(),
    account: 'Your authorized apps',
    accountLink: 'See and revoke the apps that can use your account',
    connect: 'Connect a client',
    tools: 'Tools',
    access: { public: 'anyone', 'signed-in': 'signed in', admin: 'administrators' },
    endpoints: 'Endpoints',
    file: 'In',
  },
  ja: {
    title: 'リモート MCP サーバー',
    lead: 'Sekisho は OAuth 2.1 認可サーバーを内蔵した MCP サーバーです。MCP クライアントに下のアドレスを設定してください。ほかの情報はクライアントが自分で見つけ、アカウントが必要なツールを使うときにこのサイトのログイン画面を開きます。',
    leadExternal: (issuer: string) =>
      `Sekisho は MCP サーバーです。MCP クライアントに下のアドレスを設定してください。ほかの情報はクライアントが自分で見つけ、アカウントが必要なツールを使うときに ${issuer} でのログインを求めます。`,
    mcpUrl: 'MCP のアドレス',
    mode: (demo: boolean, anonymous: boolean) =>
      `${demo ? 'デモモードです(デモ用アカウントは公開されています)。' : ''}${anonymous ? '公開ツールはログインなしで使えます。ほかのツールはログインを求めます。' : 'すべてのリクエストにログインが必要です。'}`,
    account: '連携中のアプリ',
    accountLink: 'あなたのアカウントを使えるアプリの確認と取り消し',
    connect: 'クライアントの接続方法',
    tools: 'ツール',
    access: { public: 'だれでも', 'signed-in': 'ログインした人', admin: '管理者' },
    endpoints: 'エンドポイント',
    file: 'ファイル',
  },
} as const;

export function homePage(info: HomeInfo, lang: Lang): string {
  const w = WORDS[lang];
  const endpointRows = [
    ...Object.entries(info.authorization.metadata),
    ...Object.entries(info.authorization.endpoints),
  ];
  return page({
    lang,
    switchHref: languageHref('/', otherLanguage(lang)),
    title: w.title,
    wide: true,
    body: html`<h1>${w.title}</h1>
<p class="lead">${info.account === undefined ? w.leadExternal(info.authorization.issuer) : w.lead}</p>
<dl class="meta">
<dt>${w.mcpUrl}</dt><dd><code>${info.mcp.url}</code></dd>
</dl>
<p class="muted">${w.mode(info.mode.demo, info.mode.anonymous)}</p>
${info.account === undefined ? '' : html`<p><a href="${info.account}">${w.accountLink}</a></p>`}
<h2>${w.connect}</h2>
${info.clients.map(
  (c) => html`<section class="client" id="${c.id}">
<h3>${c.name}</h3>
${c.command ? html`<pre><code>${c.command}</code></pre>` : ''}
${c.file ? html`<p>${w.file} <code>${c.file.path}</code>:</p><pre><code>${c.file.content}</code></pre>` : ''}
<ol>${c.steps.map((s) => html`<li>${s}</li>`)}</ol>
</section>`,
)}
<h2>${w.tools}</h2>
<ul class="facts">${info.tools.map(
      (t) =>
        html`<li><code>${t.name}</code> — ${t.title} <span class="muted">(${w.access[t.access]})</span></li>`,
    )}</ul>
<h2>${w.endpoints}</h2>
<dl class="meta">${endpointRows.map(([k, v]) => html`<dt>${k}</dt><dd><code>${v}</code></dd>`)}</dl>
<p class="muted">${info.name} ${info.version}</p>`,
  });
}
